import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * An RTSP proxy that puts a lossy UDP relay between a publisher and the server: SETUP answers'
 * `server_port=A-B` are rewritten to ports of the proxy, which forwards datagrams to A and B,
 * dropping the RTP packets `drop(track, n, packet)` picks (n counts the track's packets from 0).
 * RTCP and everything on TCP pass untouched.
 */
export interface LossProxy {
  port: number;
  dropped: number;
  forwarded: number;
  close(): void;
}

export async function startLossProxy(
  upstreamPort: number,
  drop: (track: number, n: number, packet: Buffer) => boolean,
): Promise<LossProxy> {
  const sockets: UdpSocket[] = [];
  const conns: Socket[] = [];
  const state = { dropped: 0, forwarded: 0 };
  const relay = async (target: number, track: number | null): Promise<number> => {
    const s = createSocket('udp4');
    sockets.push(s);
    let n = 0;
    s.on('message', (msg) => {
      if (track !== null && drop(track, n++, msg)) {
        state.dropped++;
        return;
      }
      state.forwarded++;
      s.send(msg, target, '127.0.0.1');
    });
    s.on('error', () => {});
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    return s.address().port;
  };
  const server: Server = createServer((client) => {
    conns.push(client);
    const up = connect(upstreamPort, '127.0.0.1');
    conns.push(up);
    client.pipe(up);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
    let pending = Buffer.alloc(0);
    let tracks = 0;
    let busy = Promise.resolve();
    up.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      busy = busy.then(async () => {
        for (;;) {
          const end = pending.indexOf('\r\n\r\n');
          if (end < 0) return;
          let head = pending.subarray(0, end).toString('latin1');
          const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
          if (pending.length < end + 4 + len) return;
          const body = pending.subarray(end + 4, end + 4 + len);
          pending = pending.subarray(end + 4 + len);
          const m = /server_port=(\d+)-(\d+)/.exec(head);
          if (m) {
            const track = tracks++;
            const rtp = await relay(Number(m[1]), track);
            const rtcp = await relay(Number(m[2]), null);
            head = head.replace(m[0], `server_port=${rtp}-${rtcp}`);
          }
          client.write(Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body]));
        }
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get dropped() {
      return state.dropped;
    },
    get forwarded() {
      return state.forwarded;
    },
    close() {
      server.close();
      for (const c of conns) c.destroy();
      for (const s of sockets) s.close();
    },
  };
}
