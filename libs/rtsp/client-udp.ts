import { createSocket, type Socket } from 'node:dgram';

/** A local RTP/RTCP pair on consecutive ports, RTP even (RFC 3550 §11). */
export interface ClientUdpPair {
  rtp: Socket;
  rtcp: Socket;
  rtpPort: number;
  close(): void;
}

/** Tries before giving up: an ephemeral port that is odd, or whose successor is taken, is retried. */
const MAX_TRIES = 32;

/**
 * Binds a pair on an ephemeral even port and the next one, on the wildcard address of `family`
 * (the family of the server's address, so its datagrams can reach us). Rejects after MAX_TRIES.
 */
export async function bindClientPair(family: 'udp4' | 'udp6'): Promise<ClientUdpPair> {
  const host = family === 'udp6' ? '::' : '0.0.0.0';
  for (let i = 0; i < MAX_TRIES; i++) {
    const rtp = createSocket({ type: family });
    let port: number;
    try {
      await bindDgram(rtp, 0, host);
      port = rtp.address().port;
    } catch (e) {
      rtp.close();
      throw e;
    }
    if (port % 2 !== 0 || port === 65535) {
      rtp.close();
      continue;
    }
    const rtcp = createSocket({ type: family });
    try {
      await bindDgram(rtcp, port + 1, host);
    } catch {
      rtp.close();
      rtcp.close();
      continue;
    }
    return dgramPair(rtp, rtcp, port);
  }
  throw new Error(`no free even/odd UDP port pair after ${MAX_TRIES} tries`);
}

/** An RTP/RTCP socket pair whose close() (run once) closes both, then runs `onClose`. */
export function dgramPair(rtp: Socket, rtcp: Socket, rtpPort: number, onClose?: () => void): ClientUdpPair {
  let closed = false;
  return {
    rtp,
    rtcp,
    rtpPort,
    close: () => {
      if (closed) return;
      closed = true;
      onClose?.();
      rtp.close();
      rtcp.close();
    },
  };
}

/** Binds a datagram socket; later errors (ICMP unreachable on send) are swallowed, never thrown. */
export function bindDgram(s: Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    s.once('error', onError);
    s.bind(port, host, () => {
      s.off('error', onError);
      // Later errors (ICMP unreachable on send) must not crash the process.
      s.on('error', () => {});
      resolve();
    });
  });
}
