import type { Logger } from 'pino';
import type { Counters } from '../../../libs/metrics/counters.ts';
import { isStreamKey } from '../../../libs/names/stream-key.ts';
import type { Stream, StreamHub } from '../../../libs/stream/index.ts';
import type { ControlResult, RelayInfo, RelayPullControl, RelayPullRequest } from '../control-types.ts';
import type { NodeHooks } from '../hooks.ts';
import type { PublishGate } from '../publish-gate.ts';
import { BACKOFF_MAX_MS } from './backoff.ts';
import { pullUrlProblem, type StaticPullConfig } from './config.ts';
import { RelayPull } from './pull.ts';
import { redactRelayUrl } from './redact.ts';
import { RelayWatchers, type RelayWatchable } from './watchers.ts';

export interface PullManagerDeps {
  hub: StreamHub;
  gate: PublishGate;
  hooks: NodeHooks;
  counters: Counters;
  log: Logger;
}

interface Entry {
  pull: RelayPull;
  /** -1: never stops for lack of viewers. */
  autoStopMs: number;
}

/** Bounds of an API request (the schema's for static pulls). */
const MAX_RETRY_NUM = 1_000_000;
const MIN_TIMEOUT_MS = 1000;
const MAX_TIMEOUT_MS = 120_000;

/**
 * The node's relay pulls, at most one per key: static ones from the config (`always` from start,
 * `on-demand` when a viewer of the key shows up on the hub), and those the API starts. A pull
 * with an auto-stop delay stops that long after its stream's last viewer left; one whose retries
 * ran out is forgotten (a static on-demand pull may be started again by a later viewer, no sooner
 * than the longest backoff after it gave up).
 */
export class RelayPulls implements RelayPullControl, RelayWatchable {
  private readonly deps: PullManagerDeps;
  private readonly pulls = new Map<string, Entry>();
  private readonly statics = new Map<string, StaticPullConfig>();
  private readonly idle = new Map<string, NodeJS.Timeout>();
  private readonly gaveUpAt = new Map<string, number>();
  private readonly watchers: RelayWatchers;
  private closed = false;

  constructor(statics: readonly StaticPullConfig[], deps: PullManagerDeps) {
    this.deps = deps;
    this.watchers = new RelayWatchers(deps.log);
    for (const s of statics) this.statics.set(s.key, s);
  }

  watch(listener: (info: RelayInfo) => void): () => void {
    return this.watchers.add(listener);
  }

  /** Starts the always-on static pulls (once the node listens). */
  startStatic(): void {
    for (const s of this.statics.values()) if (s.mode === 'always') this.launch(s, 'config', -1);
  }

  /** The hub's viewer count of `s` changed: on-demand starts, auto-stop timers. */
  viewersChanged(s: Stream): void {
    if (this.closed) return;
    const entry = this.pulls.get(s.key);
    if (s.subscriberCount > 0) {
      this.clearIdle(s.key);
      if (entry) return;
      const st = this.statics.get(s.key);
      if (!st || st.mode !== 'on-demand' || s.hasPublisher || this.deps.gate.isPending(s.key)) return;
      const gaveUp = this.gaveUpAt.get(s.key);
      if (gaveUp !== undefined && performance.now() - gaveUp < BACKOFF_MAX_MS) return;
      this.deps.log.info({ stream: s.key }, 'on-demand pull requested by a viewer');
      this.launch(st, 'config', st.autoStopAfterNoViewersMs);
    } else if (entry && entry.autoStopMs >= 0) {
      this.armIdle(s.key, entry);
    }
  }

  start(req: RelayPullRequest): Promise<ControlResult<RelayInfo>> {
    const bad = requestProblem(req);
    if (bad) return Promise.resolve({ ok: false, code: 'invalid', message: bad });
    if (this.closed) return Promise.resolve({ ok: false, code: 'refused', message: 'the node is stopping' });
    if (this.pulls.has(req.key))
      return Promise.resolve({ ok: false, code: 'exists', message: `${req.key} is already pulled` });
    if (this.deps.hub.get(req.key)?.hasPublisher || this.deps.gate.isPending(req.key))
      return Promise.resolve({ ok: false, code: 'busy', message: `${req.key} is being published` });
    const pull = this.launch(
      {
        url: req.url,
        key: req.key,
        retryNum: req.retryNum,
        timeoutMs: req.timeoutMs,
        rtspTransport: req.rtspTransport,
      },
      'api',
      req.autoStopAfterNoViewersMs,
    );
    return Promise.resolve({ ok: true, value: pull.info() });
  }

  async stop(key: string): Promise<ControlResult<RelayInfo>> {
    const entry = this.pulls.get(key);
    if (!entry) return { ok: false, code: 'not_found', message: `no pull feeds ${key}` };
    await this.end(key, entry, 'stopped by request');
    return { ok: true, value: entry.pull.info() };
  }

  list(): RelayInfo[] {
    return [...this.pulls.values()].map((e) => e.pull.info());
  }

  /** Shutdown: every pull stopped, claims given back. */
  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pulls].map(([key, e]) => this.end(key, e, 'shutdown')));
  }

  private launch(
    s: Pick<StaticPullConfig, 'url' | 'key' | 'retryNum' | 'timeoutMs' | 'rtspTransport'>,
    origin: RelayInfo['origin'],
    autoStopMs: number,
  ): RelayPull {
    const { hub, gate, hooks, counters, log } = this.deps;
    const pull = new RelayPull(
      { ...s, origin },
      {
        hub,
        gate,
        hooks,
        counters,
        log,
        onChange: (info) => this.watchers.emit(info),
        onGiveUp: (p) => {
          const e = this.pulls.get(p.key);
          if (e?.pull !== p) return;
          this.pulls.delete(p.key);
          this.clearIdle(p.key);
          this.gaveUpAt.set(p.key, performance.now());
        },
      },
    );
    const entry: Entry = { pull, autoStopMs };
    this.pulls.set(s.key, entry);
    this.gaveUpAt.delete(s.key);
    counters.inc('source_pulls_started', 1, { origin });
    log.info(
      { stream: s.key, url: redactRelayUrl(s.url), origin, retryNum: s.retryNum, autoStopMs },
      'relay pull started',
    );
    pull.start();
    if (autoStopMs >= 0 && (hub.get(s.key)?.subscriberCount ?? 0) === 0) this.armIdle(s.key, entry);
    return pull;
  }

  private async end(key: string, entry: Entry, reason: string): Promise<void> {
    if (this.pulls.get(key) === entry) this.pulls.delete(key);
    this.clearIdle(key);
    await entry.pull.stop(reason);
  }

  private armIdle(key: string, entry: Entry): void {
    if (this.idle.has(key)) return;
    const t = setTimeout(() => {
      this.idle.delete(key);
      if (this.pulls.get(key) !== entry) return;
      if ((this.deps.hub.get(key)?.subscriberCount ?? 0) > 0) return;
      this.deps.counters.inc('source_pulls_auto_stopped');
      void this.end(key, entry, 'no viewers');
    }, entry.autoStopMs);
    t.unref();
    this.idle.set(key, t);
  }

  private clearIdle(key: string): void {
    const t = this.idle.get(key);
    if (t) clearTimeout(t);
    this.idle.delete(key);
  }
}

/** What is wrong with an API request, or null. */
function requestProblem(req: RelayPullRequest): string | null {
  if (typeof req.key !== 'string' || !isStreamKey(req.key)) return 'key must be a stream key app/name';
  if (typeof req.url !== 'string') return 'url is required';
  const bad = pullUrlProblem(req.url);
  if (bad) return `url ${bad}`;
  if (!Number.isInteger(req.retryNum) || req.retryNum < -1 || req.retryNum > MAX_RETRY_NUM)
    return 'retryNum must be an integer from -1 (for ever)';
  if (!Number.isInteger(req.autoStopAfterNoViewersMs) || req.autoStopAfterNoViewersMs < -1)
    return 'autoStopAfterNoViewersMs must be an integer from -1 (never)';
  if (!Number.isInteger(req.timeoutMs) || req.timeoutMs < MIN_TIMEOUT_MS || req.timeoutMs > MAX_TIMEOUT_MS)
    return `timeoutMs must be an integer from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}`;
  if (req.rtspTransport !== 'tcp' && req.rtspTransport !== 'udp')
    return "rtspTransport must be 'tcp' or 'udp'";
  return null;
}
