import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseMediaPath, type MediaPath } from '../../libs/http/media-path.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { Sink, StreamHub } from '../../libs/stream/index.ts';
import type { ConnectionLimiter } from './connection-limiter.ts';
import type { NodeHooks, PlayDecision } from './hooks.ts';
import { redactQuery } from '../../libs/auth/query.ts';
import { containerFor } from './containers.ts';
import { segmentOf, type HlsHttp } from './hls-http.ts';
import { HttpStreamSink } from './http-stream-sink.ts';
import { sessionId } from './session-id.ts';
import type { TlsCredentials } from './tls-files.ts';
import { TlsGuard } from './tls-guard.ts';
import { WsStreamSink } from './ws-stream-sink.ts';
import { listenOn } from '../../libs/http/listen.ts';
import { answerClientError, CONNECTIONS_CHECKING_INTERVAL_MS, endRaw } from '../../libs/http/client-error.ts';

export interface HttpServerDeps {
  hub: StreamHub;
  log: Logger;
  counters: Counters;
  limiter: ConnectionLimiter;
  cors: boolean;
  hooks: NodeHooks;
  /** HLS playlists and segments (null: HLS is off). */
  hls: HlsHttp | null;
  /** HTTPS and WSS: the same requests on TLS; the handshake must finish within `handshakeTimeoutMs`. */
  tls?: { credentials: TlsCredentials; handshakeTimeoutMs: number };
}

/** A WebSocket viewer may only send control frames; anything bigger than this is hostile. */
const WS_MAX_INBOUND_BYTES = 4096;

/**
 * HTTP-FLV, HTTP-TS and their WebSocket forms on one port (`/app/name.flv`, `/app/name.ts`),
 * and HLS when on. With `tls` the same server speaks HTTPS and WSS: one request and upgrade
 * handler for both, so every media path served over HTTP is served over HTTPS. Sessions are
 * labelled by scheme: http-flv and ws-ts here are https-flv and wss-ts there.
 */
export class HttpMediaServer {
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly log: Logger;
  private readonly deps: HttpServerDeps;
  private readonly corsHeaders: Record<string, string>;
  private readonly secure: boolean;
  /** Connection labels of this listener's requests and upgrades: http and ws, or https and wss. */
  private readonly httpProto: 'http' | 'https';
  private readonly wsProto: 'ws' | 'wss';
  private readonly tlsGuard: TlsGuard | null = null;

  constructor(deps: HttpServerDeps) {
    this.deps = deps;
    this.secure = deps.tls !== undefined;
    this.httpProto = this.secure ? 'https' : 'http';
    this.wsProto = this.secure ? 'wss' : 'ws';
    this.log = deps.log.child({ component: this.httpProto });
    this.corsHeaders = deps.cors
      ? {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
          'Access-Control-Allow-Headers': 'Range, Origin, Content-Type',
          'Access-Control-Expose-Headers': 'Content-Length, Content-Type',
        }
      : {};
    const options = { connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS };
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => this.onRequest(req, res);
    if (deps.tls) {
      const https = createHttpsServer(
        {
          ...options,
          cert: deps.tls.credentials.cert,
          key: deps.tls.credentials.key,
          handshakeTimeout: deps.tls.handshakeTimeoutMs,
        },
        onRequest,
      );
      this.tlsGuard = new TlsGuard(https, { proto: 'https', log: deps.log, counters: deps.counters });
      this.server = https;
    } else {
      this.server = createServer(options, onRequest);
    }
    // Slowloris guard: request headers must arrive promptly. Responses stream for hours, so no response timeout.
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 15_000;
    this.server.keepAliveTimeout = 5_000;
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    this.server.on('clientError', (err, socket: Duplex & { remoteAddress?: string; remotePort?: number }) => {
      const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
      const code = answerClientError(err, socket);
      if (code === null) return;
      this.deps.counters.inc('protocol_errors', 1, { proto: this.httpProto, code });
      this.log.warn({ remote, code, err: err.message }, 'http request refused');
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: WS_MAX_INBOUND_BYTES,
      perMessageDeflate: false,
    });
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return listenOn(this.server, host, port);
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.server.closeAllConnections();
    // Connections still in their TLS handshake are not HTTP connections yet.
    this.tlsGuard?.destroyAll();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** A container's session label on this listener: `http-flv` stays, or becomes `https-flv`. */
  private label(plain: string): string {
    return this.secure ? plain.replace(/^http-/, 'https-').replace(/^ws-/, 'wss-') : plain;
  }

  private baseHeaders(): Record<string, string> {
    return { ...this.corsHeaders, 'Cache-Control': 'no-cache, no-store', Pragma: 'no-cache', Expires: '-1' };
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...this.corsHeaders, 'Access-Control-Max-Age': '86400' }).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.deps.counters.inc('http_method_not_allowed');
      this.log.info({ remote: remoteOf(req), method: req.method }, 'http method not allowed');
      res.writeHead(405, { Allow: 'GET, HEAD, OPTIONS' }).end();
      return;
    }
    const mp = parseMediaPath(req.url ?? '/');
    const hls = this.deps.hls;
    if (mp && hls) {
      const seg = segmentOf(mp);
      if (seg) {
        void hls.segment(req, res, seg, this.baseHeaders(), mp.query.session, remoteOf(req));
        return;
      }
      if (mp.ext === 'm3u8') {
        void hls.playlist(req, res, mp, this.baseHeaders(), remoteOf(req));
        return;
      }
    }
    // `<name>.hls/...` is where segments live: never a stream.
    const container = mp && !segmentOf(mp) ? containerFor(mp.ext) : undefined;
    if (!mp || !container) {
      this.deps.counters.inc('http_not_found');
      this.log.info({ remote: remoteOf(req), path: clip(req.url) }, 'http media path not found');
      res.writeHead(404, { ...this.baseHeaders(), 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const release = this.deps.limiter.tryAcquire(this.httpProto);
    if (!release) {
      this.deps.counters.inc('connections_refused_limit', 1, { proto: this.httpProto });
      this.log.warn(
        { remote: remoteOf(req) },
        `connection limit reached, refusing ${this.httpProto} connection`,
      );
      res.writeHead(503, { ...this.baseHeaders(), 'Retry-After': '5' }).end('server full\n');
      return;
    }
    const id = sessionId(container.httpIdPrefix);
    const sink = new HttpStreamSink(
      id,
      container,
      res,
      this.baseHeaders(),
      this.label(container.httpProtocol),
    );
    const refuse = (status: number, text: string): void => {
      res.writeHead(status, { ...this.baseHeaders(), 'Content-Type': 'text/plain' }).end(`${text}\n`);
    };
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
    const gone = (): boolean => req.socket.destroyed;
    this.attach(mp, sink, sink.protocol, { remote, release, refuse, gone }, (onGone) =>
      res.on('close', onGone),
    );
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const mp = parseMediaPath(req.url ?? '/');
    const container = mp && !segmentOf(mp) ? containerFor(mp.ext) : undefined;
    if (!mp || !container || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      this.deps.counters.inc('http_not_found');
      this.log.info({ remote: remoteOf(req), path: clip(req.url) }, 'websocket media path not found');
      endRaw(socket, 'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const release = this.deps.limiter.tryAcquire(this.wsProto);
    if (!release) {
      this.deps.counters.inc('connections_refused_limit', 1, { proto: this.wsProto });
      this.log.warn(
        { remote: remoteOf(req) },
        `connection limit reached, refusing ${this.wsProto} connection`,
      );
      endRaw(socket, 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const id = sessionId(container.wsIdPrefix);
    socket.on('error', () => {});
    let onGone: (() => void) | null = null;
    const sink = new WsStreamSink(
      id,
      container,
      { wss: this.wss, req, socket, head },
      (ws: WebSocket) => {
        ws.on('error', () => {});
        ws.on('close', () => onGone?.());
      },
      this.label(container.wsProtocol),
    );
    // Before the upgrade completes, the raw socket closing is how we learn the viewer left.
    const refuse = (status: number, text: string): void => {
      endRaw(
        socket,
        `HTTP/1.1 ${status} ${text.replace(/[\r\n]/g, ' ')}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
    };
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
    const gone = (): boolean => socket.destroyed;
    this.attach(mp, sink, sink.protocol, { remote, release, refuse, gone }, (cb) => {
      onGone = cb;
      socket.on('close', cb);
    });
  }

  private attach(
    mp: MediaPath,
    sink: Sink,
    proto: string,
    conn: {
      remote: string;
      release: () => void;
      refuse: (status: number, text: string) => void;
      /** The viewer left (while its authorization was pending). */
      gone: () => boolean;
    },
    onClose: (cb: () => void) => void,
  ): void {
    const log = this.log.child({ session: sink.id });
    const asked = this.deps.hooks.authorizePlay?.({
      key: mp.key,
      query: mp.query,
      connectProps: {},
      sessionId: sink.id,
      remote: conn.remote,
      protocol: proto,
    }) ?? { ok: true, kind: 'player' as const };
    void Promise.resolve(asked)
      .catch((err: unknown): PlayDecision => {
        log.error({ stream: mp.key, err }, 'play authorization failed');
        return { ok: false, status: 500, description: 'internal error' };
      })
      .then((decision) => {
        if (conn.gone()) {
          conn.release();
          log.debug({ stream: mp.key }, 'viewer left before its play was authorized');
          return;
        }
        this.start(mp, sink, proto, conn, onClose, log, decision);
      });
  }

  private start(
    mp: MediaPath,
    sink: Sink,
    proto: string,
    conn: { remote: string; release: () => void; refuse: (status: number, text: string) => void },
    onClose: (cb: () => void) => void,
    log: Logger,
    decision: PlayDecision,
  ): void {
    if (!decision.ok) {
      conn.release();
      this.deps.counters.inc('play_refused', 1, { proto });
      log.warn({ stream: mp.key, why: decision.description }, 'play refused');
      conn.refuse(decision.status ?? 403, decision.description);
      return;
    }
    const startedAt = Date.now();
    const stream = this.deps.hub.getOrCreate(mp.key);
    const sub = stream.addSubscriber(sink);
    const info = {
      sessionId: sink.id,
      kind: decision.kind,
      protocol: proto,
      key: mp.key,
      remote: conn.remote,
    };
    this.deps.counters.inc('play_started', 1, { proto });
    log.info({ stream: mp.key, proto, waiting: !stream.hasPublisher }, 'play started');
    this.deps.hooks.sessionStarted?.(info);
    let done = false;
    onClose(() => {
      if (done) return;
      done = true;
      conn.release();
      stream.removeSubscriber(sub);
      log.info({ stream: mp.key, bytesSent: sub.bytesSent, droppedFrames: sub.droppedFrames }, 'play ended');
      this.deps.hooks.sessionStopped?.({
        ...info,
        durationMs: Date.now() - startedAt,
        bytesIn: 0,
        bytesOut: sub.bytesSent,
        reason: sub.endedBy ?? 'disconnected',
      });
    });
  }
}

const remoteOf = (req: IncomingMessage): string =>
  `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;

/** A client-supplied string for a log line: at most 200 characters. */
const clip = (s: string | undefined): string => redactQuery((s ?? '').slice(0, 200));
