import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { listenOn } from '../../../libs/http/listen.ts';
import type { ConnectionLimiter } from '../connection-limiter.ts';
import { sessionId } from '../session-id.ts';
import type { TlsCredentials } from '../tls-files.ts';
import { TlsGuard } from '../tls-guard.ts';
import { RtspConnection, type RtspProto } from './connection.ts';
import type { RtspContext } from './context.ts';

/**
 * The RTSP listeners, plain and TLS (RTSPS): one set of connections, so kicks, drains and limits
 * cover both. Each connection takes a slot of limits.maxConnections at accept.
 */
export class RtspServer {
  private readonly servers: Server[] = [];
  private tlsGuard: TlsGuard | null = null;
  private readonly conns = new Set<RtspConnection>();
  private readonly ctx: RtspContext;
  private readonly limiter: ConnectionLimiter;
  private readonly handshakeTimeoutMs: number;
  private readonly log: Logger;

  constructor(ctx: RtspContext, limiter: ConnectionLimiter, handshakeTimeoutMs: number) {
    this.ctx = ctx;
    this.limiter = limiter;
    this.handshakeTimeoutMs = handshakeTimeoutMs;
    this.log = ctx.log;
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = createServer((raw) => {
      if (this.admit(raw, 'rtsp')) this.onConnection(raw, 'rtsp');
    });
    return this.bind(server, 'rtsp', host, port);
  }

  listenTls(host: string, port: number, creds: TlsCredentials): Promise<{ host: string; port: number }> {
    const server = createTlsServer({
      cert: creds.cert,
      key: creds.key,
      handshakeTimeout: this.handshakeTimeoutMs,
    });
    this.tlsGuard = new TlsGuard(server, { proto: 'rtsps', log: this.log, counters: this.ctx.counters });
    server.on('connection', (raw: Socket) => this.admit(raw, 'rtsps'));
    server.on('secureConnection', (socket: TLSSocket) => this.onConnection(socket, 'rtsps'));
    return this.bind(server, 'rtsps', host, port);
  }

  private bind(
    server: Server,
    proto: RtspProto,
    host: string,
    port: number,
  ): Promise<{ host: string; port: number }> {
    server.on('error', (e) => this.log.error({ err: e, proto }, 'rtsp listener error'));
    this.servers.push(server);
    return listenOn(server, host, port);
  }

  private admit(raw: Socket, proto: RtspProto): boolean {
    const release = this.limiter.tryAcquire(proto);
    if (!release) {
      this.ctx.counters.inc('connections_refused_limit', 1, { proto });
      this.log.warn(
        { remote: raw.remoteAddress, proto },
        'connection limit reached, refusing rtsp connection',
      );
      raw.destroy();
      return false;
    }
    raw.once('close', release);
    raw.setNoDelay(true);
    this.ctx.counters.inc('connections_accepted', 1, { proto });
    return true;
  }

  private onConnection(socket: Socket, proto: RtspProto): void {
    const conn = new RtspConnection(sessionId(proto), socket, proto, this.ctx, (c) => this.conns.delete(c));
    this.conns.add(conn);
    conn.log.debug('rtsp connection accepted');
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  kick(id: string, reason: string): boolean {
    for (const c of this.conns) {
      if (c.id !== id) continue;
      c.log.warn({ reason }, 'session kicked');
      c.destroy(reason);
      return true;
    }
    return false;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  destroyAll(): void {
    for (const c of [...this.conns]) c.destroy('shutdown');
    this.tlsGuard?.destroyAll();
  }
}
