import type { StreamOwner, StreamRegistry } from '../../libs/cluster/types.ts';
import type { ClusterView } from './cluster-view.ts';

/** Bounds the cache: a flood of distinct unknown keys costs memory only up to this. */
const MAX_ENTRIES = 10_000;

interface Entry {
  at: number;
  value: Promise<StreamOwner | null>;
}

/**
 * Owner reads for requests about a key the view does not have (or whose owner looks gone):
 * `stream` and `ingest` ask Redis, since the view may simply not have heard yet. Concurrent
 * reads of one key share one round trip; answers are reused for `ttlMs` (≤ 1 s, so a flood of
 * requests for unknown keys costs one read per key per ttl); failures are never kept. What is
 * found goes into the view (it is Redis's truth).
 */
export class OwnerLookups {
  private readonly registry: Pick<StreamRegistry, 'lookup'>;
  private readonly view: ClusterView;
  private readonly ttlMs: number;
  private readonly entries = new Map<string, Entry>();

  constructor(registry: Pick<StreamRegistry, 'lookup'>, view: ClusterView, ttlMs: number) {
    this.registry = registry;
    this.view = view;
    this.ttlMs = ttlMs;
  }

  lookup(key: string): Promise<StreamOwner | null> {
    const now = this.view.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const stamp = this.view.nextStamp();
    const value = this.registry.lookup(key).then((o) => {
      this.view.confirmOwner(key, o, stamp, this.view.now());
      return o;
    });
    if (this.ttlMs <= 0) return value;
    if (this.entries.size >= MAX_ENTRIES) this.prune(now);
    const e: Entry = { at: now, value };
    this.entries.set(key, e);
    value.catch(() => {
      if (this.entries.get(key) === e) this.entries.delete(key);
    });
    return value;
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) if (now - e.at >= this.ttlMs) this.entries.delete(k);
    // Still full of fresh entries (a burst of distinct keys): start over.
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
  }
}
