import { createConnection, createServer } from 'node:net';
import type { Server } from 'node:net';

/** Both directions of one proxied TCP connection, as the bytes passed. */
export interface Recording {
  /** Client to server. */
  c2s: Buffer;
  /** Server to client. */
  s2c: Buffer;
}

/**
 * A recording TCP proxy on loopback: each accepted connection is forwarded to `port` and
 * both directions are kept (up to `capBytes` each, the rest forwarded unrecorded).
 */
export class RecordingProxy {
  readonly recordings: Recording[] = [];
  private readonly server: Server;
  private readonly open = new Set<{ destroy(): void }>();

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(port: number, capBytes = 256 * 1024): Promise<RecordingProxy> {
    const server = createServer();
    const proxy = new RecordingProxy(server);
    server.on('connection', (client) => {
      const upstream = createConnection({ host: '127.0.0.1', port });
      const c2s: Buffer[] = [];
      const s2c: Buffer[] = [];
      let c2sLen = 0;
      let s2cLen = 0;
      const rec: Recording = { c2s: Buffer.alloc(0), s2c: Buffer.alloc(0) };
      proxy.recordings.push(rec);
      proxy.open.add(client).add(upstream);
      client.on('data', (d: Buffer) => {
        if (c2sLen < capBytes) c2s.push(Buffer.from(d.subarray(0, capBytes - c2sLen)));
        c2sLen += d.length;
        rec.c2s = Buffer.concat(c2s);
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        if (s2cLen < capBytes) s2c.push(Buffer.from(d.subarray(0, capBytes - s2cLen)));
        s2cLen += d.length;
        rec.s2c = Buffer.concat(s2c);
        client.write(d);
      });
      const close = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Recordings made since `from` (an index into `recordings`). */
  since(from: number): Recording[] {
    return this.recordings.slice(from);
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
