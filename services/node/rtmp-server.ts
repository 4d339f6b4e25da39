import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { StreamMediaInfo } from '../../libs/cluster/types.ts';
import { isProtocolError } from '../../libs/errors/protocol-error.ts';
import { listenOn } from '../../libs/http/listen.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { StatusCode } from '../../libs/rtmp/commands.ts';
import type { RtmpMessage } from '../../libs/rtmp/message-types.ts';
import {
  RtmpServerConnection,
  type ServerConnectionHandler,
  type ServerConnectionOptions,
  type StreamRequest,
} from '../../libs/rtmp/server-connection.ts';
import type {
  AttachOptions,
  PublisherHandle,
  Stream,
  StreamHub,
  Subscriber,
} from '../../libs/stream/index.ts';
import { classifyRtmpMedia } from './classify.ts';
import type { ConnectionLimiter } from './connection-limiter.ts';
import type { NodeHooks, PlayDecision, SessionInfo } from './hooks.ts';
import { mediaInfoFromSequenceHeader } from './media-info.ts';
import { RtmpPlaySink } from './rtmp-sink.ts';
import { sessionId } from './session-id.ts';
import type { TlsCredentials } from './tls-files.ts';
import { TlsGuard } from './tls-guard.ts';
import type { PublishGate } from './publish-gate.ts';
import { queryOfUrl, redactQuery } from '../../libs/auth/query.ts';

/** The listener a session came in on: its protocol label in metrics, logs and session events. */
export type RtmpProto = 'rtmp' | 'rtmps';

interface PublishState {
  stream: Stream;
  handle: PublisherHandle;
  req: StreamRequest;
  badFrames: number;
  media: StreamMediaInfo;
  onEnd: (() => void) | undefined;
}

interface SessionState {
  log: Logger;
  proto: RtmpProto;
  startedAt: number;
  publish: PublishState | undefined;
  play: { stream: Stream; sub: Subscriber; req: StreamRequest } | undefined;
  /** The cluster view of this session, once it publishes or plays. */
  info: SessionInfo | undefined;
  /** Why the server ended it (kick, claim lost), for the stop event. */
  endReason: string | undefined;
}

export interface RtmpServerDeps {
  hub: StreamHub;
  log: Logger;
  counters: Counters;
  limiter: ConnectionLimiter;
  options: ServerConnectionOptions;
  hooks: NodeHooks;
  /** Authorizes publishes (shared with the RTSP listener: one key, one publisher). */
  gate: PublishGate;
}

/**
 * The RTMP listeners, plain and TLS (RTMPS): publishers feed the hub, players become hub sinks.
 * Both kinds of connection are one set of sessions, so a key has one publisher whichever
 * listener it came in on, and kicks, drains and limits cover both.
 */
export class RtmpServer implements ServerConnectionHandler {
  private readonly servers: Server[] = [];
  private tlsGuard: TlsGuard | null = null;
  private readonly sessions = new Map<RtmpServerConnection, SessionState>();
  private readonly log: Logger;
  private readonly deps: RtmpServerDeps;

  constructor(deps: RtmpServerDeps) {
    this.deps = deps;
    this.log = deps.log.child({ component: 'rtmp' });
  }

  /** Starts the plain RTMP listener. */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = createServer((raw) => {
      if (this.admit(raw, 'rtmp')) this.onConnection(raw, 'rtmp');
    });
    return this.bind(server, 'rtmp', host, port);
  }

  /**
   * Starts the RTMPS listener: TLS, then the same RTMP sessions. A connection takes its slot of
   * limits.maxConnections at accept, like plain RTMP; the TLS handshake must finish within the
   * handshake timeout, and the RTMP handshake then gets the same time again.
   */
  listenTls(host: string, port: number, creds: TlsCredentials): Promise<{ host: string; port: number }> {
    const server = createTlsServer({
      cert: creds.cert,
      key: creds.key,
      handshakeTimeout: this.deps.options.handshakeTimeoutMs,
    });
    this.tlsGuard = new TlsGuard(server, {
      proto: 'rtmps',
      log: this.deps.log,
      counters: this.deps.counters,
    });
    server.on('connection', (raw: Socket) => this.admit(raw, 'rtmps'));
    server.on('secureConnection', (socket: TLSSocket) => this.onConnection(socket, 'rtmps'));
    return this.bind(server, 'rtmps', host, port);
  }

  private bind(
    server: Server,
    proto: RtmpProto,
    host: string,
    port: number,
  ): Promise<{ host: string; port: number }> {
    server.on('error', (e) => this.log.error({ err: e, proto }, 'rtmp listener error'));
    this.servers.push(server);
    return listenOn(server, host, port);
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  /** Ends every session, and RTMPS connections still in their TLS handshake. */
  destroyAll(): void {
    for (const conn of this.sessions.keys()) conn.socket.destroy();
    this.tlsGuard?.destroyAll();
  }

  /** Ends one session by id (control "kick"); false when there is none. */
  kick(id: string, reason: string): boolean {
    for (const [conn, st] of this.sessions) {
      if (conn.id !== id) continue;
      st.endReason = reason;
      st.log.warn({ reason }, 'session kicked');
      conn.socket.destroy();
      return true;
    }
    return false;
  }

  /** Ends every relay pull of `key` this node serves (the origin fenced itself); returns how many. */
  kickRelays(key: string, reason: string): number {
    let n = 0;
    for (const [conn, st] of this.sessions) {
      if (st.info?.kind !== 'relay' || st.info.key !== key) continue;
      st.endReason = reason;
      conn.socket.destroy();
      n++;
    }
    if (n) this.log.warn({ stream: key, relays: n, reason }, 'relay pulls ended');
    return n;
  }

  /**
   * A TCP connection accepted: it holds a slot of limits.maxConnections until it closes, or is
   * closed at once when the node is full.
   */
  private admit(raw: Socket, proto: RtmpProto): boolean {
    const release = this.deps.limiter.tryAcquire(proto);
    if (!release) {
      this.deps.counters.inc('connections_refused_limit', 1, { proto });
      this.log.warn(
        { remote: raw.remoteAddress, proto },
        'connection limit reached, refusing rtmp connection',
      );
      raw.destroy();
      return false;
    }
    raw.once('close', release);
    raw.setNoDelay(true);
    this.deps.counters.inc('connections_accepted', 1, { proto });
    return true;
  }

  /** A connection ready for RTMP: plain at accept, RTMPS once its TLS handshake is done. */
  private onConnection(socket: Socket, proto: RtmpProto): void {
    const conn = new RtmpServerConnection(sessionId(proto), socket, this.deps.options, this);
    const log = this.log.child({
      session: conn.id,
      remote: conn.remote,
      ...(proto === 'rtmps' ? { proto } : {}),
    });
    this.sessions.set(conn, {
      log,
      proto,
      startedAt: Date.now(),
      publish: undefined,
      play: undefined,
      info: undefined,
      endReason: undefined,
    });
    log.debug('rtmp connection accepted');
  }

  onPublish(conn: RtmpServerConnection, req: StreamRequest): void {
    const st = this.sessions.get(conn);
    if (!st) return;
    const existing = this.deps.hub.get(req.key);
    if (existing?.hasPublisher || this.deps.gate.isPending(req.key)) {
      this.refuseInUse(conn, st, req, existing?.publisherHandle?.id);
      return;
    }
    const kick = (reason: string): void => {
      if (st.publish?.req !== req) return;
      this.kick(conn.id, reason);
    };
    // Each answer acts on this request only: the client may have ended it and started another
    // on the same connection (or left) meanwhile.
    const current = (): boolean => conn.activeRequest === req && conn.state === 'publishing';
    const request = {
      key: req.key,
      query: queryOf(req),
      sessionId: conn.id,
      remote: conn.remote,
      protocol: st.proto,
    };
    void this.deps.gate.authorize(request, kick, st.log, current).then((o) => {
      if (!o.ok) {
        if (o.reason !== 'gone' && conn.activeRequest === req)
          conn.rejectPublish(req.streamId, o.code, o.description);
        return;
      }
      this.startPublish(conn, st, req, o.onEnd, o.owner);
    });
  }

  private startPublish(
    conn: RtmpServerConnection,
    st: SessionState,
    req: StreamRequest,
    onEnd: (() => void) | undefined,
    owner: AttachOptions,
  ): void {
    const stream = this.deps.hub.getOrCreate(req.key);
    const handle = stream.attachPublisher(conn.id, owner);
    if (!handle) {
      onEnd?.();
      this.refuseInUse(conn, st, req, stream.publisherHandle?.id);
      return;
    }
    st.publish = { stream, handle, req, badFrames: 0, media: {}, onEnd };
    st.info = {
      sessionId: conn.id,
      kind: 'publisher',
      protocol: st.proto,
      key: req.key,
      remote: conn.remote,
    };
    this.deps.counters.inc('publish_started');
    st.log.info({ stream: req.key, tcUrl: redactQuery(req.tcUrl) }, 'publish started');
    conn.acceptPublish(req);
    this.deps.hooks.sessionStarted?.(st.info);
  }

  /** A second publisher of a key this node already publishes: Publish.BadName, first one untouched. */
  private refuseInUse(
    conn: RtmpServerConnection,
    st: SessionState,
    req: StreamRequest,
    owner: string | undefined,
  ): void {
    this.deps.counters.inc('publish_refused', 1, { reason: 'in_use' });
    st.log.warn({ stream: req.key, owner }, 'publish refused: stream already has a publisher');
    conn.rejectPublish(
      req.streamId,
      StatusCode.PublishBadName,
      `stream ${req.key} is already being published`,
    );
  }

  onMedia(conn: RtmpServerConnection, msg: RtmpMessage): void {
    const st = this.sessions.get(conn);
    const p = st?.publish;
    if (!st || !p) return;
    let frame;
    try {
      frame = classifyRtmpMedia(msg);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      // One bad frame header is the publisher's problem, not the viewers': skip it, count it.
      this.deps.counters.inc('publish_bad_frames', 1, { code: e.code });
      if (p.badFrames++ === 0)
        st.log.warn({ code: e.code, err: e.message }, 'malformed media message skipped');
      return;
    }
    if (!frame) return;
    if (frame.isSequenceHeader && this.deps.hooks.publishMediaInfo) {
      p.media = { ...p.media, ...mediaInfoFromSequenceHeader(frame.kind, frame.payload) };
      this.deps.hooks.publishMediaInfo(p.req.key, conn.id, p.media);
    }
    p.stream.write(p.handle, frame);
  }

  onConnect(conn: RtmpServerConnection): void {
    const st = this.sessions.get(conn);
    if (!st || !this.deps.hooks.rtmpConnect) return;
    const flashVer = conn.connectProps.flashVer;
    this.deps.hooks.rtmpConnect({
      sessionId: conn.id,
      protocol: st.proto,
      app: conn.app,
      tcUrl: redactQuery(conn.tcUrl),
      flashVer: typeof flashVer === 'string' ? flashVer : '',
      remote: conn.remote,
    });
  }

  onPlay(conn: RtmpServerConnection, req: StreamRequest): void {
    const st = this.sessions.get(conn);
    if (!st) return;
    const asked = this.deps.hooks.authorizePlay?.({
      key: req.key,
      query: queryOf(req),
      connectProps: conn.connectProps,
      sessionId: conn.id,
      remote: conn.remote,
      protocol: st.proto,
    }) ?? { ok: true, kind: 'player' as const };
    // The answer may come later (an auth callback): it acts only if this play is still the
    // connection's request (the viewer may have left or deleted the stream meanwhile).
    void Promise.resolve(asked).then(
      (decision) => {
        if (conn.activeRequest !== req || conn.state !== 'playing') return;
        this.decidedPlay(conn, st, req, decision);
      },
      (err: unknown) => {
        st.log.error({ stream: req.key, err }, 'play authorization failed');
        if (conn.activeRequest === req) conn.rejectPlay(req.streamId, 'internal error, try again');
      },
    );
  }

  private decidedPlay(
    conn: RtmpServerConnection,
    st: SessionState,
    req: StreamRequest,
    decision: PlayDecision,
  ): void {
    if (!decision.ok) {
      this.deps.counters.inc('play_refused', 1, { proto: st.proto });
      st.log.warn({ stream: req.key, why: decision.description }, 'play refused');
      conn.rejectPlay(req.streamId, decision.description, 'refused', decision.code);
      return;
    }
    const stream = this.deps.hub.getOrCreate(req.key);
    const sub = stream.addSubscriber(new RtmpPlaySink(conn, req, decision.kind !== 'relay', st.proto));
    st.play = { stream, sub, req };
    st.info = {
      sessionId: conn.id,
      kind: decision.kind,
      protocol: st.proto,
      key: req.key,
      remote: conn.remote,
    };
    this.deps.counters.inc(decision.kind === 'relay' ? 'relay_pulls_started' : 'play_started', 1, {
      proto: st.proto,
    });
    st.log.info({ stream: req.key, kind: decision.kind, waiting: !stream.hasPublisher }, 'play started');
    this.deps.hooks.sessionStarted?.(st.info);
  }

  onStreamEnd(conn: RtmpServerConnection, _streamId: number, reason?: string): void {
    const st = this.sessions.get(conn);
    if (!st) return;
    let bytesOut = 0;
    const endedBy = st.play?.sub.endedBy ?? undefined;
    if (st.publish) {
      const { stream, handle, req, onEnd } = st.publish;
      st.publish = undefined;
      stream.detachPublisher(handle);
      onEnd?.();
      st.log.info({ stream: req.key, frames: stream.framesIn }, 'publish ended');
    }
    if (st.play) {
      st.play.stream.removeSubscriber(st.play.sub);
      bytesOut = st.play.sub.bytesSent;
      st.log.info(
        {
          stream: st.play.req.key,
          bytesSent: st.play.sub.bytesSent,
          droppedFrames: st.play.sub.droppedFrames,
        },
        'play ended',
      );
      st.play = undefined;
    }
    if (st.info) {
      const info = st.info;
      st.info = undefined;
      this.deps.hooks.sessionStopped?.({
        ...info,
        durationMs: Date.now() - st.startedAt,
        bytesIn: conn.bytesIn,
        bytesOut,
        reason: st.endReason ?? reason ?? endedBy ?? (conn.state === 'closed' ? 'disconnected' : 'ended'),
      });
    }
  }

  onClose(conn: RtmpServerConnection, error: Error | null): void {
    const st = this.sessions.get(conn);
    if (!st) return;
    this.sessions.delete(conn);
    const fields = { durationMs: Date.now() - st.startedAt, bytesIn: conn.bytesIn, state: conn.state };
    if (error && isProtocolError(error)) {
      this.deps.counters.inc('protocol_errors', 1, { proto: st.proto, code: error.code });
      st.log.warn(
        { ...fields, code: error.code, err: error.message },
        'rtmp session closed on protocol error',
      );
    } else if (error && (error as NodeJS.ErrnoException).code !== 'ECONNRESET') {
      st.log.info({ ...fields, err: error.message }, 'rtmp session closed on socket error');
    } else {
      st.log.debug(fields, 'rtmp session closed');
    }
  }
}

/**
 * The query a publish or play carries: the tcUrl's (`rtmp://h/app?sign=…`, as lal and SRS read
 * it) under the stream name's and the connect app's (which win on a repeated name).
 */
function queryOf(req: StreamRequest): Record<string, string> {
  return { ...queryOfUrl(req.tcUrl), ...req.query };
}
