import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { EndReason } from '../../libs/stream/index.ts';
import {
  type OutputFormat,
  type Sink,
  type StreamHub,
  type Subscriber,
  type StreamStartInfo,
  defineOutputFormat,
} from '../../libs/stream/index.ts';
import type { ConnectionLimiter } from './connection-limiter.ts';
import type { NodeHooks, SessionInfo } from './hooks.ts';

/** HLS sessions receive no media from the stream; this format is never serialized. */
const hlsFormat: OutputFormat = defineOutputFormat('hls', () => Buffer.alloc(0));

/** The stream's view of an HLS player: counted, started and ended, sent nothing. */
class HlsSessionSink implements Sink {
  readonly id: string;
  readonly format = hlsFormat;
  readonly protocol = 'hls';
  readonly passive = true;
  readonly bufferedBytes = 0;
  started = false;
  private readonly onEnd: (reason: EndReason) => void;
  constructor(id: string, onEnd: (reason: EndReason) => void) {
    this.id = id;
    this.onEnd = onEnd;
  }
  start(_info: StreamStartInfo): void {
    this.started = true;
  }
  write(): void {}
  cork(): void {}
  uncork(): void {}
  end(reason: EndReason): void {
    this.onEnd(reason);
  }
}

export interface HlsSession {
  readonly id: string;
  readonly key: string;
  readonly info: SessionInfo;
  readonly startedAt: number;
  lastSeen: number;
  bytesOut: number;
  readonly sink: HlsSessionSink;
  /** Set as soon as the stream has added the session (the stream may end it right away). */
  sub: Subscriber | null;
  readonly release: () => void;
}

/**
 * HLS players as sessions. A player is known by the session id in its playlist URL (the
 * server chooses it: a client cannot multiply state by inventing ids); it counts as a viewer of
 * the stream (stats, events, an edge's relay) while it keeps fetching the playlist, and ends
 * `timeoutMs` after its last request, or when the stream ends it.
 */
export class HlsSessions {
  private readonly sessions = new Map<string, HlsSession>();
  private readonly timer: NodeJS.Timeout;
  private readonly d: {
    hub: StreamHub;
    hooks: NodeHooks;
    counters: Counters;
    limiter: ConnectionLimiter;
    log: Logger;
    timeoutMs: number;
  };

  constructor(d: HlsSessions['d']) {
    this.d = d;
    this.timer = setInterval(() => this.sweep(Date.now()), Math.min(1000, Math.max(100, d.timeoutMs / 4)));
    this.timer.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A new session for `key`, or null when the node is at its connection limit. */
  open(key: string, remote: string, kind: SessionInfo['kind']): HlsSession | null {
    const release = this.d.limiter.tryAcquire('hls');
    if (!release) return null;
    const id = `hls-${randomBytes(8).toString('hex')}`;
    const sink = new HlsSessionSink(id, (reason) => this.close(id, reason));
    const info: SessionInfo = { sessionId: id, kind, protocol: 'hls', key, remote };
    const now = Date.now();
    // Registered before the stream sees it: a stream may end it at once (shutdown).
    const session: HlsSession = {
      id,
      key,
      info,
      startedAt: now,
      lastSeen: now,
      bytesOut: 0,
      sink,
      sub: null,
      release,
    };
    this.sessions.set(id, session);
    session.sub = this.d.hub.getOrCreate(key).addSubscriber(sink);
    this.d.counters.inc('play_started', 1, { proto: 'hls' });
    this.d.log.info({ session: id, stream: key, remote }, 'hls session started');
    this.d.hooks.sessionStarted?.(info);
    return session;
  }

  /** The live session `id` of `key`, its clock reset; undefined when unknown or ended. */
  touch(id: string, key: string): HlsSession | undefined {
    const s = this.sessions.get(id);
    if (!s || s.key !== key) return undefined;
    s.lastSeen = Date.now();
    return s;
  }

  /** Ends the session (timeout, the stream ended it, shutdown). */
  close(id: string, reason: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    s.release();
    const stream = this.d.hub.get(s.key);
    if (stream && s.sub) stream.removeSubscriber(s.sub);
    this.d.log.info({ session: id, stream: s.key, reason, bytesOut: s.bytesOut }, 'hls session ended');
    this.d.hooks.sessionStopped?.({
      ...s.info,
      durationMs: Date.now() - s.startedAt,
      bytesIn: 0,
      bytesOut: s.bytesOut,
      reason: s.sub?.endedBy ?? reason,
    });
  }

  sweep(now: number): void {
    for (const s of [...this.sessions.values()]) {
      if (now - s.lastSeen > this.d.timeoutMs) {
        this.d.counters.inc('hls_sessions_timed_out');
        this.close(s.id, 'timeout');
      }
    }
  }

  closeAll(reason: string): void {
    clearInterval(this.timer);
    for (const id of [...this.sessions.keys()]) this.close(id, reason);
  }
}
