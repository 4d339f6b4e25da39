import type { Logger } from 'pino';
import type { StreamMediaInfo } from '../../../libs/cluster/types.ts';
import type { Counters } from '../../../libs/metrics/counters.ts';
import type { IncomingFrame, PublisherHandle, Stream, StreamHub } from '../../../libs/stream/index.ts';
import type { RelayInfo } from '../control-types.ts';
import type { NodeHooks, SessionInfo } from '../hooks.ts';
import { mediaInfoFromSequenceHeader } from '../media-info.ts';
import type { PublishGate } from '../publish-gate.ts';
import { sessionId } from '../session-id.ts';
import { backoffMs, HEALTHY_AFTER_MS } from './backoff.ts';
import { FlvPullSource } from './flv-source.ts';
import { redactRelayUrl } from './redact.ts';
import { RtmpPullSource } from './rtmp-source.ts';
import { RtspPullSource } from './rtsp-source.ts';
import { PullProtocol, type PullSource, type PullSourceEvents, type PullSourceOptions } from './source.ts';

/** One pull as its manager starts it. */
export interface PullSettings extends PullSourceOptions {
  key: string;
  /** lal pull_retry_num: -1 for ever, 0 never, n at most n retries after the first failure. */
  retryNum: number;
  origin: RelayInfo['origin'];
}

export interface PullDeps {
  hub: StreamHub;
  gate: PublishGate;
  hooks: NodeHooks;
  counters: Counters;
  log: Logger;
  /** Every state change (webhooks: on_relay_pull_start/stop). */
  onChange: (info: RelayInfo) => void;
  /** The pull ended by itself (retries used up); its manager forgets it. */
  onGiveUp: (pull: RelayPull) => void;
}

/** Why an attempt ended that is not the source's (the gate's answer, a kick, silence). */
class PullError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

interface Attempt {
  id: string;
  source: PullSource;
  stream: Stream | null;
  handle: PublisherHandle | null;
  onEnd: (() => void) | undefined;
  info: SessionInfo | null;
  startedAt: number;
  playingAt: number | null;
  lastFrameAt: number;
  watchdog: NodeJS.Timeout | null;
  mediaInfo: StreamMediaInfo;
  badFrames: number;
  ended: boolean;
}

/** A URL's scheme picks the source: rtmp(s), http(s) (FLV), rtsp(s). */
export function sourceFor(url: string): 'rtmp' | 'flv' | 'rtsp' | null {
  const scheme = /^([a-z]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'rtmp' || scheme === 'rtmps') return 'rtmp';
  if (scheme === 'http' || scheme === 'https') return 'flv';
  if (scheme === 'rtsp' || scheme === 'rtsps') return 'rtsp';
  return null;
}

function makeSource(opts: PullSourceOptions, ev: PullSourceEvents): PullSource {
  switch (sourceFor(opts.url)) {
    case 'rtmp':
      return new RtmpPullSource(opts, ev);
    case 'flv':
      return new FlvPullSource(opts, ev);
    case 'rtsp':
      return new RtspPullSource(opts, ev);
    default:
      throw new PullError('invalid', 'unsupported URL scheme');
  }
}

/**
 * Keeps pulling one remote stream into one key, as if it were published here: the claim goes
 * through the PublishGate (in a cluster: the Redis claim), the frames into the hub, and each
 * attempt is a publisher session (protocol rtmp-pull, flv-pull, rtsp-pull). A failed attempt is
 * retried after a capped exponential backoff (1 s doubling to 30 s, jittered) until `retryNum`
 * retries in a row failed; an attempt that played HEALTHY_AFTER_MS starts the count over.
 */
export class RelayPull {
  readonly id = sessionId('pull');
  private readonly cfg: PullSettings;
  private readonly deps: PullDeps;
  private readonly log: Logger;
  private readonly proto: string;
  private attempt: Attempt | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private failuresInARow = 0;
  private state: RelayInfo['state'] = 'connecting';
  private attempts = 0;
  private readonly startedAt = Date.now();
  private lastError: string | null = null;
  private stopped = false;

  constructor(cfg: PullSettings, deps: PullDeps) {
    this.cfg = cfg;
    this.deps = deps;
    this.proto = sourceFor(cfg.url) ?? 'relay';
    this.log = deps.log.child({ pull: cfg.key, url: redactRelayUrl(cfg.url) });
  }

  get key(): string {
    return this.cfg.key;
  }

  /** A source is playing into the stream. */
  get playing(): boolean {
    return this.state === 'running';
  }

  info(): RelayInfo {
    return {
      id: this.id,
      key: this.cfg.key,
      url: redactRelayUrl(this.cfg.url),
      origin: this.cfg.origin,
      state: this.state,
      attempts: this.attempts,
      startedAt: this.startedAt,
      lastError: this.lastError,
    };
  }

  start(): void {
    this.connect();
  }

  /** Closes the source, detaches the publisher, gives the claim back; no more attempts. */
  async stop(reason = 'stopped'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const a = this.attempt;
    if (a && !a.ended) await a.source.close().catch(() => undefined);
    if (a) this.end(a, null);
    this.setState('stopped');
    this.log.info({ reason }, `${this.proto} pull stopped`);
  }

  private setState(s: RelayInfo['state']): void {
    this.state = s;
    try {
      this.deps.onChange(this.info());
    } catch (err) {
      this.log.error({ err }, 'relay pull observer failed');
    }
  }

  private connect(): void {
    this.attempts++;
    const a = {
      // Every attempt is a session under the pull's own id: what the API returned (lal's
      // start_relay_pull session_id), stats show and kicks use. Attempts never overlap.
      id: this.id,
      stream: null,
      handle: null,
      onEnd: undefined,
      info: null,
      startedAt: Date.now(),
      playingAt: null,
      lastFrameAt: performance.now(),
      watchdog: null,
      mediaInfo: {},
      badFrames: 0,
      ended: false,
    } as Omit<Attempt, 'source'> as Attempt;
    this.attempt = a;
    try {
      a.source = makeSource(
        { url: this.cfg.url, timeoutMs: this.cfg.timeoutMs, rtspTransport: this.cfg.rtspTransport },
        {
          onFrame: (f) => this.frame(a, f),
          onBadFrame: (code) => this.badFrame(a, code),
          onClose: (err) => this.end(a, err),
        },
      );
    } catch (e) {
      // The URL was checked when the pull was made: this is a source that cannot be built at all.
      this.lastError = (e as Error).message;
      this.stopped = true;
      this.setState('stopped');
      this.deps.onGiveUp(this);
      return;
    }
    this.setState('connecting');
    this.run(a).catch((e: unknown) => this.end(a, e instanceof Error ? e : new Error(String(e))));
  }

  private async run(a: Attempt): Promise<void> {
    await a.source.open();
    if (a.ended) return;
    const { hub, gate, hooks } = this.deps;
    const key = this.cfg.key;
    if (hub.get(key)?.hasPublisher || gate.isPending(key)) {
      this.deps.counters.inc('publish_refused', 1, { reason: 'in_use' });
      throw new PullError('in_use', 'the stream already has a publisher');
    }
    const protocol = a.source.protocol;
    const o = await gate.authorize(
      { key, query: {}, sessionId: a.id, remote: a.source.remote, protocol },
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
    a.info = { sessionId: a.id, kind: 'publisher', protocol, key, remote: a.source.remote };
    this.deps.counters.inc('publish_started');
    hooks.sessionStarted?.(a.info);
    await a.source.play();
    if (a.ended) return;
    a.playingAt = performance.now();
    a.lastFrameAt = a.playingAt;
    // A source that stops sending without closing (a hung server) is noticed by silence.
    const checkMs = Math.max(50, Math.floor(this.cfg.timeoutMs / 4));
    a.watchdog = setInterval(() => {
      const silentMs = Math.round(performance.now() - a.lastFrameAt);
      if (silentMs >= this.cfg.timeoutMs)
        this.end(a, new PullError('RELAY_NO_MEDIA', `no media for ${silentMs} ms`));
    }, checkMs);
    a.watchdog.unref();
    this.lastError = null;
    this.deps.counters.inc('source_pull_connects', 1, { proto: protocol });
    if (protocol === PullProtocol.Rtsp) this.deps.counters.inc('rtsp_pull_connects');
    this.setState('running');
    const tracks = (a.source as { tracks?: string[] }).tracks;
    this.log.info(
      {
        session: a.id,
        attempt: this.attempts,
        ...(protocol === PullProtocol.Rtsp ? { transport: this.cfg.rtspTransport, tracks } : {}),
      },
      `${this.proto} pull connected`,
    );
  }

  private frame(a: Attempt, f: IncomingFrame): void {
    if (a.ended || !a.stream || !a.handle) return;
    a.lastFrameAt = performance.now();
    const hooks = this.deps.hooks;
    if (f.isSequenceHeader && hooks.publishMediaInfo) {
      a.mediaInfo = { ...a.mediaInfo, ...mediaInfoFromSequenceHeader(f.kind, f.payload) };
      hooks.publishMediaInfo(this.cfg.key, a.id, a.mediaInfo);
    }
    a.stream.write(a.handle, f);
  }

  private badFrame(a: Attempt, code: string): void {
    this.deps.counters.inc(
      a.source.protocol === PullProtocol.Rtsp ? 'rtsp_bad_packets' : 'source_pull_bad_frames',
      1,
      {
        code,
      },
    );
    if (a.badFrames++ === 0) this.log.warn({ code }, 'malformed frame from the source skipped');
  }

  /** Ends an attempt once: publisher detached, claim given back, session over; then retry or give up. */
  private end(a: Attempt, err: Error | null): void {
    if (a.ended) return;
    a.ended = true;
    if (a.watchdog) clearInterval(a.watchdog);
    if (err) void a.source.close().catch(() => undefined);
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
        bytesIn: a.source.bytesIn,
        bytesOut: 0,
        reason: err ? errorCode(err) : 'stopped',
      });
      a.info = null;
    }
    if (this.stopped || err === null) return; // only stop() closes without an error
    const code = errorCode(err);
    this.lastError = `${code}: ${err.message}`.slice(0, 300);
    this.deps.counters.inc('source_pull_failures', 1, { proto: a.source.protocol, code });
    if (a.source.protocol === PullProtocol.Rtsp) this.deps.counters.inc('rtsp_pull_failures', 1, { code });
    const healthy = a.playingAt !== null && performance.now() - a.playingAt >= HEALTHY_AFTER_MS;
    if (healthy) this.failuresInARow = 0;
    this.failuresInARow++;
    const fields = {
      session: a.id,
      code,
      err: err.message,
      attempt: this.attempts,
      frames,
      ...a.source.stats?.(),
    };
    const retryNum = this.cfg.retryNum;
    if (retryNum >= 0 && this.failuresInARow > retryNum) {
      this.stopped = true;
      this.deps.counters.inc('source_pulls_given_up', 1, { proto: a.source.protocol });
      this.log.warn({ ...fields, retryNum }, `${this.proto} pull gave up`);
      this.setState('stopped');
      this.deps.onGiveUp(this);
      return;
    }
    const delayMs = backoffMs(this.failuresInARow);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, delayMs);
    this.retryTimer.unref();
    this.log.warn(
      { ...fields, retryInMs: delayMs },
      code === 'RTSP_AUTH_FAILED'
        ? `${this.proto} pull failed: credentials refused`
        : `${this.proto} pull failed`,
    );
    this.setState('backoff');
  }
}

/** A stable, bounded label: ProtocolError / client error / PullError codes, else 'error'. */
function errorCode(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Za-z_]{1,40}$/.test(code) ? code : 'error';
}
