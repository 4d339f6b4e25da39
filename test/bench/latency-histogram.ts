import type { Spread } from './report.ts';

/** 0.1 ms buckets up to FINE_MAX_MS: what a coalescing window of a few ms needs to be seen. */
const FINE_PER_MS = 10;
const FINE_MAX_MS = 50;
/** Then 1 ms buckets up to COARSE_MAX_MS; later values share one overflow bucket. */
const COARSE_MAX_MS = 2000;
const FINE_BUCKETS = FINE_MAX_MS * FINE_PER_MS;
const OVERFLOW = FINE_BUCKETS + (COARSE_MAX_MS - FINE_MAX_MS);

/**
 * Fixed-bucket latency histogram shared by every player: recording a value is an index and an
 * increment, with no allocation, so a thousand players can record every frame. Percentiles are
 * nearest-rank and given as the upper edge of their bucket (never more than the exact max), so
 * they are at most 0.1 ms (below 50 ms) or 1 ms (below 2 s) above the true value.
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(OVERFLOW + 1);
  private n = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;

  /** Values recorded. */
  get count(): number {
    return this.n;
  }

  /** Negative values (clock skew cannot happen in one process, so a mismatch) count as 0. */
  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    const i =
      v < FINE_MAX_MS
        ? Math.floor(v * FINE_PER_MS)
        : v < COARSE_MAX_MS
          ? FINE_BUCKETS + Math.floor(v - FINE_MAX_MS)
          : OVERFLOW;
    this.counts[i]!++;
    this.n++;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  /** The value below which a share `p` (0..1] of the recorded values lie; NaN when empty. */
  percentile(p: number): number {
    if (this.n === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(p * this.n));
    let seen = 0;
    for (let i = 0; i <= OVERFLOW; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperEdge(i, this.hi), this.hi);
    }
    return this.hi;
  }

  /** min / median / p95 / p99 / max, or null when nothing was recorded. */
  spread(): Spread | null {
    if (this.n === 0) return null;
    return {
      min: this.lo,
      median: this.percentile(0.5),
      p95: this.percentile(0.95),
      p99: this.percentile(0.99),
      max: this.hi,
    };
  }
}

function upperEdge(i: number, max: number): number {
  if (i < FINE_BUCKETS) return (i + 1) / FINE_PER_MS;
  if (i < OVERFLOW) return FINE_MAX_MS + (i - FINE_BUCKETS) + 1;
  return max;
}
