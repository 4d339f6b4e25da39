import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Counters } from '../../libs/metrics/counters.ts';
import {
  type EndReason,
  type OutputFormat,
  type Sink,
  type StreamHub,
  type Subscriber,
  type StreamStartInfo,
  defineOutputFormat,
} from '../../libs/stream/index.ts';
import type { NodeHooks, SessionInfo } from './hooks.ts';

/** HLS sessions receive no media from the stream; this format is never serialized. */
const hlsFormat: OutputFormat = defineOutputFormat('hls', () => Buffer.alloc(0));

/** A session URL stays valid this long (a paused player that comes back later gets a new one). */
const TOKEN_TTL_S = 24 * 3600;
const NONCE_BYTES = 8;
const MAC_BYTES = 16;
/** Kicked tokens remembered at most (oldest forgotten first): a bounded refusal list. */
const MAX_REVOKED = 10_000;
const TOKEN_RE = /^hls-([0-9a-f]{16})([0-9a-f]{8})([0-9a-f]{32})$/;

/** The stream's view of an HLS player: counted, started and ended, sent nothing. */
class HlsSessionSink implements Sink {
  readonly id: string;
  readonly format = hlsFormat;
  readonly protocol = 'hls';
  readonly passive = true;
  readonly bufferedBytes = 0;
  private readonly onEnd: (reason: EndReason) => void;
  constructor(id: string, onEnd: (reason: EndReason) => void) {
    this.id = id;
    this.onEnd = onEnd;
  }
  start(_info: StreamStartInfo): void {}
  write(): void {}
  cork(): void {}
  uncork(): void {}
  end(reason: EndReason): void {
    this.onEnd(reason);
  }
}

export interface HlsSession {
  /** The token in the playlist URL (`session=`). */
  readonly token: string;
  /** For logs and events: `hls-<nonce>`. */
  readonly id: string;
  readonly key: string;
  readonly info: SessionInfo;
  readonly startedAt: number;
  readonly client: string;
  readonly dedupKey: string;
  lastSeen: number;
  /** Playlist requests of this session waiting for a first segment: it is active meanwhile. */
  pending: number;
  bytesOut: number;
  /** Set as soon as the stream has added the session (the stream may end it right away). */
  sub: Subscriber | null;
}

export interface HlsSessionLimits {
  /** Sessions on the node at most (their own budget: never the connection slots of RTMP and relays). */
  maxSessions: number;
  /** Sessions per client address at most. */
  maxPerClient: number;
}

/** Why a session could not be had. */
export type OpenRefusal = 'node-full' | 'client-full';

/**
 * HLS players as sessions. The first playlist request of a player is answered with a redirect to
 * a session URL whose token the server signed (key, time, nonce): the redirect keeps no state, so
 * requests that never come back cost nothing. State (a viewer of the stream: stats, events, an
 * edge's relay) is made when a player comes back with a valid token, and ends `timeoutMs` after
 * its last playlist request, or when the stream ends it. A player that reloads the original URL
 * each time (some do) is sent back to its live session (same address, user agent and stream).
 */
export class HlsSessions {
  private readonly sessions = new Map<string, HlsSession>();
  /** `address|user agent|key` -> token of the live session, for players that reload the original URL. */
  private readonly byClientKey = new Map<string, string>();
  private readonly perClient = new Map<string, number>();
  private readonly secret = randomBytes(32);
  /** Tokens of kicked sessions -> when they expire anyway: refused, not reopened. */
  private readonly revoked = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly d: {
    hub: StreamHub;
    hooks: NodeHooks;
    counters: Counters;
    log: Logger;
    timeoutMs: number;
    limits: HlsSessionLimits;
  };

  constructor(d: HlsSessions['d']) {
    this.d = d;
    this.timer = setInterval(() => this.sweep(Date.now()), Math.min(1000, Math.max(100, d.timeoutMs / 4)));
    this.timer.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A new signed token for `key` (no state is kept). */
  issue(key: string, now = Date.now()): string {
    const nonce = randomBytes(NONCE_BYTES).toString('hex');
    const issued = Math.floor(now / 1000)
      .toString(16)
      .padStart(8, '0')
      .slice(-8);
    return `hls-${nonce}${issued}${this.mac(key, nonce, issued)}`;
  }

  /** True for a token this process issued for `key`, not older than a day. */
  verify(token: string, key: string, now = Date.now()): boolean {
    const m = TOKEN_RE.exec(token);
    if (!m) return false;
    const [, nonce, issued, mac] = m as unknown as [string, string, string, string];
    const age = Math.floor(now / 1000) - parseInt(issued, 16);
    if (age < -60 || age > TOKEN_TTL_S) return false;
    const want = Buffer.from(this.mac(key, nonce, issued), 'hex');
    return timingSafeEqual(want, Buffer.from(mac, 'hex'));
  }

  /** The live session with this token for `key`, its clock reset; undefined otherwise. */
  touch(token: string, key: string): HlsSession | undefined {
    const s = this.sessions.get(token);
    if (!s || s.key !== key) return undefined;
    s.lastSeen = Date.now();
    return s;
  }

  /** The token of the live session of this client for `key` (a player reloading the original URL). */
  liveTokenOf(client: string, userAgent: string, key: string): string | undefined {
    return this.byClientKey.get(dedupKeyOf(client, userAgent, key));
  }

  /** Opens the session of a verified token; a refusal when the node or the client is at its limit. */
  open(token: string, key: string, remote: string, userAgent: string): HlsSession | OpenRefusal {
    const existing = this.sessions.get(token);
    if (existing) return existing;
    const client = clientOf(remote);
    if (this.sessions.size >= this.d.limits.maxSessions) return 'node-full';
    if ((this.perClient.get(client) ?? 0) >= this.d.limits.maxPerClient) return 'client-full';
    const id = `hls-${token.slice(4, 4 + NONCE_BYTES * 2)}`;
    const sink = new HlsSessionSink(id, (reason) => this.close(token, reason));
    const info: SessionInfo = { sessionId: id, kind: 'player', protocol: 'hls', key, remote };
    const now = Date.now();
    const dedupKey = dedupKeyOf(client, userAgent, key);
    const session: HlsSession = {
      token,
      id,
      key,
      info,
      startedAt: now,
      client,
      dedupKey,
      lastSeen: now,
      pending: 0,
      bytesOut: 0,
      sub: null,
    };
    // Registered before the stream sees it: a stream may end it at once (shutdown).
    this.sessions.set(token, session);
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    this.byClientKey.set(dedupKey, token);
    this.d.counters.inc('play_started', 1, { proto: 'hls' });
    this.d.log.info({ session: id, stream: key, remote }, 'hls session started');
    this.d.hooks.sessionStarted?.(info);
    session.sub = this.d.hub.getOrCreate(key).addSubscriber(sink);
    return session;
  }

  /** True for the token of a kicked session (its player must not come back with it). */
  isRevoked(token: string, now = Date.now()): boolean {
    const until = this.revoked.get(token);
    if (until === undefined) return false;
    if (until > now) return true;
    this.revoked.delete(token);
    return false;
  }

  /** Ends the session (timeout, the stream ended it, shutdown, a kick). */
  close(token: string, reason: string): void {
    const s = this.sessions.get(token);
    if (!s) return;
    this.sessions.delete(token);
    if (reason === 'kicked') {
      if (this.revoked.size >= MAX_REVOKED) this.revoked.delete(this.revoked.keys().next().value!);
      this.revoked.set(token, s.startedAt + TOKEN_TTL_S * 1000);
    }
    const n = (this.perClient.get(s.client) ?? 1) - 1;
    if (n > 0) this.perClient.set(s.client, n);
    else this.perClient.delete(s.client);
    if (this.byClientKey.get(s.dedupKey) === token) this.byClientKey.delete(s.dedupKey);
    const stream = this.d.hub.get(s.key);
    if (stream && s.sub) stream.removeSubscriber(s.sub);
    this.d.log.info({ session: s.id, stream: s.key, reason, bytesOut: s.bytesOut }, 'hls session ended');
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
      if (s.pending === 0 && now - s.lastSeen > this.d.timeoutMs) {
        this.d.counters.inc('hls_sessions_timed_out');
        this.close(s.token, 'timeout');
      }
    }
  }

  closeAll(reason: string): void {
    clearInterval(this.timer);
    for (const token of [...this.sessions.keys()]) this.close(token, reason);
  }

  private mac(key: string, nonce: string, issued: string): string {
    return createHmac('sha256', this.secret)
      .update(`${key}\n${nonce}\n${issued}`)
      .digest()
      .subarray(0, MAC_BYTES)
      .toString('hex');
  }
}

/** The client address of `host:port` / `[v6]:port` (sessions are limited per address). */
function clientOf(remote: string): string {
  const i = remote.lastIndexOf(':');
  return i < 0 ? remote : remote.slice(0, i);
}

const dedupKeyOf = (client: string, userAgent: string, key: string): string =>
  `${client}|${userAgent.slice(0, 256)}|${key}`;
