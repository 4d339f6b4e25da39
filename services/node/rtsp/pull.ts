import type { Logger } from 'pino';
import type { StreamMediaInfo } from '../../../libs/cluster/types.ts';
import { ConfigError } from '../../../libs/config/load.ts';
import { isProtocolError } from '../../../libs/errors/protocol-error.ts';
import type { Counters } from '../../../libs/metrics/counters.ts';
import { isStreamKey } from '../../../libs/names/stream-key.ts';
import {
  parseRtspUrl,
  redactUrl,
  RtspClient,
  RtspClientError,
  RtspClientErrorCode,
  type RtspClientTrack,
  type TrackCodec,
} from '../../../libs/rtsp/index.ts';
import type { PublisherHandle, Stream, StreamHub } from '../../../libs/stream/index.ts';
import type { NodeHooks, SessionInfo } from '../hooks.ts';
import { mediaInfoFromSequenceHeader } from '../media-info.ts';
import type { PublishGate } from '../publish-gate.ts';
import { sessionId } from '../session-id.ts';
import { RtspRecorder } from './recorder.ts';

/** One entry of `rtsp.pulls`: keep pulling `url` into the stream `key`. */
export interface RtspPullConfig {
  key: string;
  url: string;
  transport: 'tcp' | 'udp';
  /** Each request's answer, and RTP while playing, must come within this. */
  timeoutMs: number;
}

export interface RtspPullDeps {
  hub: StreamHub;
  gate: PublishGate;
  hooks: NodeHooks;
  counters: Counters;
  log: Logger;
}

/** Reconnect backoff (capped exponential with jitter): 1 s, 2 s, 4 s ... 30 s. */
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
/** A session that played this long was healthy: the next failure starts the backoff over. */
const HEALTHY_AFTER_MS = 10_000;
/** UDP: how often packets held behind a gap are checked for giving up on it (as an RTSP publish). */
const REORDER_FLUSH_MS = 50;
/** The protocol label of a pull's publisher session (logs, events; the drain does not wait for it). */
export const PULL_PROTOCOL = 'rtsp-pull';

/** Why an attempt ended that is not the client's (the gate's answer, a kick). */
class PullError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Per attempt: the client, and once the claim is held, the publisher side. */
interface Attempt {
  id: string;
  client: RtspClient;
  stream: Stream | null;
  handle: PublisherHandle | null;
  onEnd: (() => void) | undefined;
  info: SessionInfo | null;
  recorder: RtspRecorder | null;
  flushTimer: NodeJS.Timeout | null;
  startedAt: number;
  playingAt: number | null;
  mediaInfo: StreamMediaInfo;
  badPackets: number;
  ended: boolean;
}

/**
 * Keeps pulling one RTSP URL (a camera) into one stream key, as if the camera published it:
 * the claim goes through the PublishGate like an RTSP publish, the frames through an
 * RtspRecorder, and the session is announced (kind publisher, protocol rtsp-pull). When the
 * source fails it reconnects with capped exponential backoff until stop().
 */
export class RtspPull {
  private readonly cfg: RtspPullConfig;
  private readonly deps: RtspPullDeps;
  private readonly log: Logger;
  private readonly remote: string;
  private attempt: Attempt | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private failuresInARow = 0;
  private stopped = false;
  private started = false;

  constructor(cfg: RtspPullConfig, deps: RtspPullDeps) {
    this.cfg = cfg;
    this.deps = deps;
    const u = parseRtspUrl(cfg.url);
    this.remote = `${u.host.includes(':') ? `[${u.host}]` : u.host}:${u.port}`;
    this.log = deps.log.child({ pull: cfg.key, url: redactUrl(cfg.url) });
  }

  get key(): string {
    return this.cfg.key;
  }

  /** A session is playing into the stream. */
  get playing(): boolean {
    const a = this.attempt;
    return a !== null && a.playingAt !== null && !a.ended;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.connect();
  }

  /** TEARDOWN, detach the publisher, give the claim back; no more reconnects. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const a = this.attempt;
    if (a && !a.ended) await a.client.close(); // onClose(null) ends the attempt
    if (a) this.end(a, null);
    this.log.info('rtsp pull stopped');
  }

  private connect(): void {
    const a: Attempt = {
      id: sessionId('rtsp-pull'),
      client: null as unknown as RtspClient,
      stream: null,
      handle: null,
      onEnd: undefined,
      info: null,
      recorder: null,
      flushTimer: null,
      startedAt: Date.now(),
      playingAt: null,
      mediaInfo: {},
      badPackets: 0,
      ended: false,
    };
    a.client = new RtspClient({
      url: this.cfg.url,
      transport: this.cfg.transport,
      requestTimeoutMs: this.cfg.timeoutMs,
      readTimeoutMs: this.cfg.timeoutMs,
      onRtp: (track, packet) => this.packet(a, track, packet, false),
      onRtcp: (track, packet) => this.packet(a, track, packet, true),
      onClose: (err) => this.end(a, err),
    });
    this.attempt = a;
    this.run(a).catch((e: unknown) => this.end(a, e instanceof Error ? e : new Error(String(e))));
  }

  private async run(a: Attempt): Promise<void> {
    const tracks = await a.client.open();
    const chosen = pickTracks(tracks);
    if (chosen.length === 0) {
      throw new RtspClientError(
        RtspClientErrorCode.NoTracks,
        `no H.264, H.265 or AAC track (offered: ${tracks.map((t) => codecName(t.codec)).join(', ') || 'none'})`,
      );
    }
    const { hub, gate, hooks } = this.deps;
    const key = this.cfg.key;
    if (hub.get(key)?.hasPublisher || gate.isPending(key)) {
      this.deps.counters.inc('publish_refused', 1, { reason: 'in_use' });
      throw new PullError('in_use', 'the stream already has a publisher');
    }
    const o = await gate.authorize(
      { key, query: {}, sessionId: a.id, remote: this.remote, protocol: PULL_PROTOCOL },
      (reason) => this.end(a, new PullError('kicked', `kicked: ${reason}`)),
      this.log,
      () => !a.ended && !this.stopped,
    );
    if (a.ended) {
      if (o.ok) o.onEnd?.();
      return;
    }
    if (!o.ok) throw new PullError(o.reason, `publish refused: ${o.description}`);
    const stream = hub.getOrCreate(key);
    const handle = stream.attachPublisher(a.id, o.owner);
    if (!handle) {
      o.onEnd?.();
      this.deps.counters.inc('publish_refused', 1, { reason: 'in_use' });
      throw new PullError('in_use', 'the stream already has a publisher');
    }
    a.stream = stream;
    a.handle = handle;
    a.onEnd = o.onEnd;
    const codecs: (TrackCodec | null)[] = tracks.map((t) => (chosen.includes(t.index) ? t.codec : null));
    const udp = this.cfg.transport === 'udp';
    a.recorder = new RtspRecorder(codecs, udp, (f) => {
      if (!a.stream || !a.handle) return;
      if (f.isSequenceHeader && hooks.publishMediaInfo) {
        a.mediaInfo = { ...a.mediaInfo, ...mediaInfoFromSequenceHeader(f.kind, f.payload) };
        hooks.publishMediaInfo(key, a.id, a.mediaInfo);
      }
      a.stream.write(a.handle, f);
    });
    if (udp) {
      a.flushTimer = setInterval(() => a.recorder?.flushStale(), REORDER_FLUSH_MS);
      a.flushTimer.unref();
    }
    a.info = { sessionId: a.id, kind: 'publisher', protocol: PULL_PROTOCOL, key, remote: this.remote };
    this.deps.counters.inc('publish_started');
    hooks.sessionStarted?.(a.info);
    await a.client.play(chosen);
    if (a.ended) return;
    a.playingAt = performance.now();
    this.deps.counters.inc('rtsp_pull_connects');
    this.log.info(
      {
        session: a.id,
        transport: this.cfg.transport,
        tracks: chosen.map((i) => codecName(tracks[i]!.codec)),
      },
      'rtsp pull connected',
    );
  }

  /** One RTP or RTCP packet; a malformed one is skipped and counted, never fatal. */
  private packet(a: Attempt, track: number, buf: Buffer, rtcp: boolean): void {
    const rec = a.recorder;
    if (!rec || a.ended) return;
    try {
      if (rtcp) rec.rtcp(buf);
      else rec.rtp(track, buf);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      this.deps.counters.inc('rtsp_bad_packets', 1, { code: e.code });
      if (a.badPackets++ === 0)
        this.log.warn({ code: e.code, err: e.message }, 'malformed rtp/rtcp packet skipped');
    }
  }

  /** Ends an attempt once: publisher detached, claim given back, session announced over; then retry. */
  private end(a: Attempt, err: Error | null): void {
    if (a.ended) return;
    a.ended = true;
    if (a.flushTimer) clearInterval(a.flushTimer);
    if (err) a.client.destroy(err);
    if (a.stream && a.handle) {
      a.stream.detachPublisher(a.handle);
      a.onEnd?.();
    }
    const frames = a.stream?.framesIn ?? 0;
    a.handle = null;
    a.stream = null;
    if (a.info) {
      this.deps.hooks.sessionStopped?.({
        ...a.info,
        durationMs: Date.now() - a.startedAt,
        bytesIn: a.client.bytesIn,
        bytesOut: 0,
        reason: err ? errorCode(err) : 'stopped',
      });
      a.info = null;
    }
    if (this.stopped || err === null) return; // only stop() closes without an error
    const code = errorCode(err);
    this.deps.counters.inc('rtsp_pull_failures', 1, { code });
    const healthy = a.playingAt !== null && performance.now() - a.playingAt >= HEALTHY_AFTER_MS;
    if (healthy) this.failuresInARow = 0;
    const delayMs = this.scheduleRetry();
    this.log.warn(
      { session: a.id, code, err: err.message, retryInMs: delayMs, frames, ...(a.recorder?.stats ?? {}) },
      code === RtspClientErrorCode.AuthFailed ? 'rtsp pull failed: credentials refused' : 'rtsp pull failed',
    );
  }

  private scheduleRetry(): number {
    if (this.stopped) return 0;
    this.failuresInARow++;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(10, this.failuresInARow - 1));
    // ±20 % jitter so pulls of one camera (or many after a shared outage) do not stampede.
    const delayMs = Math.round(
      Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, base * (0.8 + 0.4 * Math.random()))),
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, delayMs);
    this.retryTimer.unref();
    return delayMs;
  }
}

/** The first H.264/H.265 track and the first AAC track, by SDP index. */
export function pickTracks(tracks: readonly RtspClientTrack[]): number[] {
  const video = tracks.find((t) => t.codec.codec === 'h264' || t.codec.codec === 'h265');
  const audio = tracks.find((t) => t.codec.codec === 'aac');
  return [video, audio].flatMap((t) => (t ? [t.index] : []));
}

function codecName(c: TrackCodec): string {
  return c.codec === 'unsupported' ? c.encoding : c.codec;
}

/** A stable, bounded label: ProtocolError / RtspClientError / PullError codes, else 'error'. */
function errorCode(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Za-z_]{1,40}$/.test(code) ? code : 'error';
}

/**
 * Checks what the schema cannot: keys are stream keys, URLs parse, a key is pulled once.
 * ConfigError naming the entry otherwise.
 */
export function checkRtspPulls(pulls: readonly RtspPullConfig[]): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  pulls.forEach((p, i) => {
    if (!isStreamKey(p.key))
      problems.push(`rtsp.pulls[${i}].key ${JSON.stringify(p.key)} is not a stream key (app/name)`);
    if (seen.has(p.key)) problems.push(`rtsp.pulls[${i}].key ${JSON.stringify(p.key)} is pulled twice`);
    seen.add(p.key);
    try {
      parseRtspUrl(p.url);
    } catch {
      problems.push(
        `rtsp.pulls[${i}].url ${JSON.stringify(redactUrl(p.url))} is not an rtsp:// or rtsps:// URL`,
      );
    }
  });
  if (problems.length) throw new ConfigError(problems);
}
