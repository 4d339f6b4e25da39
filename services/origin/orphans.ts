import type { Counters } from '../../libs/metrics/counters.ts';

/** Most keys remembered; beyond it the oldest are forgotten (their claims expire with the lease). */
const MAX_ORPHANS = 10_000;
/** Released per refresh round, concurrently: cleanup never holds refreshes up for long. */
export const ORPHAN_BATCH = 200;

/**
 * Keys under which a claim of this process may linger that it no longer tracks: a claim or
 * re-claim whose reply was lost (it may still have run), a release that failed, a fenced key.
 * Bounded: publishers choose keys, and a flood of refused publishes must not grow memory or
 * stall the refresh of real claims.
 */
export class Orphans {
  private readonly keys = new Set<string>();
  private readonly counters: Counters;

  constructor(counters: Counters) {
    this.counters = counters;
  }

  get size(): number {
    return this.keys.size;
  }

  add(key: string): void {
    this.keys.delete(key);
    this.keys.add(key);
    if (this.keys.size <= MAX_ORPHANS) return;
    const oldest = this.keys.values().next().value;
    if (oldest !== undefined) this.keys.delete(oldest);
    this.counters.inc('ownership_orphans_forgotten');
  }

  delete(key: string): void {
    this.keys.delete(key);
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** The oldest `n` keys, to clean up this round. */
  batch(n = ORPHAN_BATCH): string[] {
    const out: string[] = [];
    for (const k of this.keys) {
      if (out.length >= n) break;
      out.push(k);
    }
    return out;
  }
}
