import type { Logger } from 'pino';
import type { Counters } from '../../../libs/metrics/counters.ts';
import { isStreamKey } from '../../../libs/names/stream-key.ts';
import type { Stream, StreamHub } from '../../../libs/stream/index.ts';
import type { ControlResult, RelayInfo, RelayPushControl, RelayPushRequest } from '../control-types.ts';
import { pushTarget, pushUrlProblem, type StaticPushConfig } from './config.ts';
import { RelayPush } from './push.ts';
import { RelayWatchers, type RelayWatchable } from './watchers.ts';

export interface PushManagerDeps {
  hub: StreamHub;
  counters: Counters;
  log: Logger;
}

/** Bound on pushes at once (each is a connection and a viewer). */
const MAX_PUSHES = 10_000;
const API_PUSH_TIMEOUT_MS = 10_000;

/**
 * The node's relay pushes: static ones from the config, started whenever a matching stream gets
 * a publisher (and again on every new publish), and those the API starts for a live stream.
 * A push of the same key to the same URL runs once.
 */
export class RelayPushes implements RelayPushControl, RelayWatchable {
  private readonly deps: PushManagerDeps;
  private readonly statics: readonly StaticPushConfig[];
  private readonly pushes = new Map<string, RelayPush>();
  private readonly watchers: RelayWatchers;
  private closed = false;

  constructor(statics: readonly StaticPushConfig[], deps: PushManagerDeps) {
    this.deps = deps;
    this.statics = statics;
    this.watchers = new RelayWatchers(deps.log);
  }

  watch(listener: (info: RelayInfo) => void): () => void {
    return this.watchers.add(listener);
  }

  /** For every new hub stream: its publishes start the static pushes that match it. */
  attach(s: Stream): void {
    if (this.statics.length === 0) return;
    s.addTap({
      onMessage: () => {},
      // After attachPublisher returns, so the push finds the stream live.
      onPublisherStart: () => queueMicrotask(() => this.published(s.key)),
    });
  }

  start(req: RelayPushRequest): Promise<ControlResult<RelayInfo>> {
    if (typeof req.key !== 'string' || !isStreamKey(req.key))
      return Promise.resolve({ ok: false, code: 'invalid', message: 'key must be a stream key app/name' });
    const bad = typeof req.url === 'string' ? pushUrlProblem(req.url) : 'is required';
    if (bad) return Promise.resolve({ ok: false, code: 'invalid', message: `url ${bad}` });
    if (this.closed) return Promise.resolve({ ok: false, code: 'refused', message: 'the node is stopping' });
    if (!this.deps.hub.get(req.key)?.hasPublisher)
      return Promise.resolve({ ok: false, code: 'not_found', message: `${req.key} is not live here` });
    if (this.find(req.key, req.url))
      return Promise.resolve({ ok: false, code: 'exists', message: `${req.key} is already pushed there` });
    const push = this.launch(req.key, req.url, API_PUSH_TIMEOUT_MS, 'api');
    if (!push) return Promise.resolve({ ok: false, code: 'refused', message: 'too many pushes' });
    return Promise.resolve({ ok: true, value: push.info() });
  }

  stop(id: string): Promise<ControlResult<RelayInfo>> {
    const push = this.pushes.get(id);
    if (!push) return Promise.resolve({ ok: false, code: 'not_found', message: `no push ${id}` });
    push.stop('stopped by request');
    return Promise.resolve({ ok: true, value: push.info() });
  }

  list(): RelayInfo[] {
    return [...this.pushes.values()].map((p) => p.info());
  }

  stopAll(): void {
    this.closed = true;
    for (const p of [...this.pushes.values()]) p.stop('shutdown');
  }

  private published(key: string): void {
    if (this.closed || !this.deps.hub.get(key)?.hasPublisher) return;
    for (const p of this.statics) {
      const url = pushTarget(p, key);
      if (url === null || this.find(key, url)) continue;
      this.launch(key, url, p.timeoutMs, 'config');
    }
  }

  private find(key: string, url: string): RelayPush | undefined {
    for (const p of this.pushes.values()) if (p.key === key && p.url === url) return p;
    return undefined;
  }

  private launch(key: string, url: string, timeoutMs: number, origin: RelayInfo['origin']): RelayPush | null {
    if (this.pushes.size >= MAX_PUSHES) {
      this.deps.counters.inc('relay_pushes_refused');
      return null;
    }
    const push = new RelayPush(
      { key, url, timeoutMs, origin },
      {
        hub: this.deps.hub,
        counters: this.deps.counters,
        log: this.deps.log,
        onChange: (info) => this.watchers.emit(info),
        onEnded: (p) => {
          if (this.pushes.get(p.id) === p) this.pushes.delete(p.id);
        },
      },
    );
    this.pushes.set(push.id, push);
    this.deps.counters.inc('relay_pushes_started', 1, { origin });
    push.start();
    return push;
  }
}
