import { createSocket, type Socket } from 'node:dgram';
import { bindDgram, dgramPair } from '../../../libs/rtsp/client-udp.ts';

/** An RTP/RTCP socket pair on consecutive ports (RTP even, RFC 3550 §11). */
export interface UdpPair {
  rtp: Socket;
  rtcp: Socket;
  rtpPort: number;
  close(): void;
}

/**
 * Hands out server port pairs for RTSP over UDP from a configured range, so operators can open
 * exactly that range in their firewall. A pair is tried at the next free even port; one taken by
 * another process is skipped.
 */
export class UdpPorts {
  private readonly min: number;
  private readonly max: number;
  private readonly host: string;
  private readonly used = new Set<number>();
  private next: number;

  constructor(range: { min: number; max: number }, host: string) {
    this.min = range.min + (range.min % 2);
    this.max = range.max;
    this.host = host;
    this.next = this.min;
  }

  get inUse(): number {
    return this.used.size;
  }

  /** A bound pair, or null when the range is exhausted. */
  async allocate(family: 'udp4' | 'udp6'): Promise<UdpPair | null> {
    const span = Math.floor((this.max - this.min + 1) / 2);
    for (let tries = 0; tries < span; tries++) {
      const port = this.next;
      this.next = port + 2 > this.max - 1 ? this.min : port + 2;
      if (this.used.has(port)) continue;
      this.used.add(port);
      const pair = await this.bindPair(port, family);
      if (pair) return pair;
      this.used.delete(port);
    }
    return null;
  }

  private async bindPair(port: number, family: 'udp4' | 'udp6'): Promise<UdpPair | null> {
    const rtp = createSocket({ type: family, reuseAddr: false });
    const rtcp = createSocket({ type: family, reuseAddr: false });
    const host = family === 'udp6' ? '::' : this.host;
    try {
      await bindDgram(rtp, port, host);
      await bindDgram(rtcp, port + 1, host);
    } catch {
      rtp.close();
      rtcp.close();
      return null;
    }
    return dgramPair(rtp, rtcp, port, () => this.used.delete(port));
  }
}
