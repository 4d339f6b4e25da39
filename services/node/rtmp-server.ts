import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { isProtocolError } from '../../libs/errors/protocol-error.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { StatusCode } from '../../libs/rtmp/commands.ts';
import type { RtmpMessage } from '../../libs/rtmp/message-types.ts';
import {
  RtmpServerConnection,
  type ServerConnectionHandler,
  type ServerConnectionOptions,
  type StreamRequest,
} from '../../libs/rtmp/server-connection.ts';
import type { PublisherHandle, Stream, StreamHub, Subscriber } from '../../libs/stream/index.ts';
import { classifyRtmpMedia } from './classify.ts';
import type { ConnectionLimiter } from './connection-limiter.ts';
import { RtmpPlaySink } from './rtmp-sink.ts';
import { sessionId } from './session-id.ts';
import { listenOn } from '../../libs/http/listen.ts';

interface SessionState {
  log: Logger;
  startedAt: number;
  release: () => void;
  publish: { stream: Stream; handle: PublisherHandle; req: StreamRequest; badFrames: number } | undefined;
  play: { stream: Stream; sub: Subscriber; req: StreamRequest } | undefined;
}

export interface RtmpServerDeps {
  hub: StreamHub;
  log: Logger;
  counters: Counters;
  limiter: ConnectionLimiter;
  options: ServerConnectionOptions;
}

/** The RTMP listener: publishers feed the hub, players become hub sinks. */
export class RtmpServer implements ServerConnectionHandler {
  private readonly server: Server;
  private readonly sessions = new Map<RtmpServerConnection, SessionState>();
  private readonly log: Logger;
  private readonly deps: RtmpServerDeps;

  constructor(deps: RtmpServerDeps) {
    this.deps = deps;
    this.log = deps.log.child({ component: 'rtmp' });
    this.server = createServer((s) => this.onConnection(s));
    this.server.on('error', (e) => this.log.error({ err: e }, 'rtmp listener error'));
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return listenOn(this.server, host, port);
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Stops accepting and ends every session. */
  destroyAll(): void {
    for (const conn of this.sessions.keys()) conn.socket.destroy();
  }

  private onConnection(socket: Socket): void {
    const release = this.deps.limiter.tryAcquire();
    if (!release) {
      this.deps.counters.inc('connections_refused_limit', 1, { proto: 'rtmp' });
      this.log.warn({ remote: socket.remoteAddress }, 'connection limit reached, refusing rtmp connection');
      socket.destroy();
      return;
    }
    this.deps.counters.inc('connections_accepted', 1, { proto: 'rtmp' });
    const conn = new RtmpServerConnection(sessionId('rtmp'), socket, this.deps.options, this);
    const log = this.log.child({ session: conn.id, remote: conn.remote });
    this.sessions.set(conn, { log, startedAt: Date.now(), release, publish: undefined, play: undefined });
    log.debug('rtmp connection accepted');
  }

  onPublish(conn: RtmpServerConnection, req: StreamRequest): void {
    const st = this.sessions.get(conn);
    if (!st) return;
    const stream = this.deps.hub.getOrCreate(req.key);
    const handle = stream.attachPublisher(conn.id);
    if (!handle) {
      this.deps.counters.inc('publish_refused', 1, { reason: 'in_use' });
      st.log.warn(
        { stream: req.key, owner: stream.publisherHandle?.id },
        'publish refused: stream already has a publisher',
      );
      conn.rejectPublish(
        req.streamId,
        StatusCode.PublishBadName,
        `stream ${req.key} is already being published`,
      );
      return;
    }
    st.publish = { stream, handle, req, badFrames: 0 };
    this.deps.counters.inc('publish_started');
    st.log.info({ stream: req.key, tcUrl: req.tcUrl }, 'publish started');
    conn.acceptPublish(req);
  }

  onMedia(conn: RtmpServerConnection, msg: RtmpMessage): void {
    const p = this.sessions.get(conn)?.publish;
    if (!p) return;
    let frame;
    try {
      frame = classifyRtmpMedia(msg);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      // One bad frame header is the publisher's problem, not the viewers': skip it, count it.
      this.deps.counters.inc('publish_bad_frames', 1, { code: e.code });
      if (p.badFrames++ === 0)
        this.sessions
          .get(conn)
          ?.log.warn({ code: e.code, err: e.message }, 'malformed media message skipped');
      return;
    }
    if (frame) p.stream.write(p.handle, frame);
  }

  onPlay(conn: RtmpServerConnection, req: StreamRequest): void {
    const st = this.sessions.get(conn);
    if (!st) return;
    const stream = this.deps.hub.getOrCreate(req.key);
    const sub = stream.addSubscriber(new RtmpPlaySink(conn, req));
    st.play = { stream, sub, req };
    this.deps.counters.inc('play_started', 1, { proto: 'rtmp' });
    st.log.info({ stream: req.key, waiting: !stream.hasPublisher }, 'play started');
  }

  onStreamEnd(conn: RtmpServerConnection, _streamId: number): void {
    const st = this.sessions.get(conn);
    if (!st) return;
    if (st.publish) {
      const { stream, handle, req } = st.publish;
      st.publish = undefined;
      stream.detachPublisher(handle);
      st.log.info({ stream: req.key, frames: stream.framesIn }, 'publish ended');
    }
    if (st.play) {
      st.play.stream.removeSubscriber(st.play.sub);
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
  }

  onClose(conn: RtmpServerConnection, error: Error | null): void {
    const st = this.sessions.get(conn);
    if (!st) return;
    this.sessions.delete(conn);
    st.release();
    const fields = { durationMs: Date.now() - st.startedAt, bytesIn: conn.bytesIn, state: conn.state };
    if (error && isProtocolError(error)) {
      this.deps.counters.inc('protocol_errors', 1, { proto: 'rtmp', code: error.code });
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
