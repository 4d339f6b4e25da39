/**
 * A sorted set of strings kept in order as it changes, so a page of a listing costs
 * O(log n + page) and an insert or delete O(log n + CHUNK) instead of a sort per request.
 * Keys live in chunks of at most MAX_CHUNK, themselves in order: a B-tree of height two, which
 * is plenty for the hundred thousand keys a scheduler tracks.
 *
 * Order is JavaScript's `<` on strings (UTF-16 code units), the same in every replica.
 */

/** Chunk size bound: a splice moves at most this many pointers. */
const MAX_CHUNK = 512;
/** A chunk shorter than this is merged into its neighbour when they fit together. */
const MIN_CHUNK = MAX_CHUNK / 4;

export class SortedKeys {
  private chunks: string[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    const c = this.chunks[this.chunkFor(key)];
    if (!c) return false;
    const i = lowerBound(c, key);
    return c[i] === key;
  }

  /** Adds `key`; false when it was there already. */
  add(key: string): boolean {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.count = 1;
      return true;
    }
    let ci = this.chunkFor(key);
    if (ci === this.chunks.length) ci--; // larger than everything: append to the last chunk
    const c = this.chunks[ci]!;
    const i = lowerBound(c, key);
    if (c[i] === key) return false;
    c.splice(i, 0, key);
    this.count++;
    if (c.length > MAX_CHUNK) this.chunks.splice(ci + 1, 0, c.splice(c.length >>> 1));
    return true;
  }

  /** Removes `key`; false when it was not there. */
  delete(key: string): boolean {
    const ci = this.chunkFor(key);
    const c = this.chunks[ci];
    if (!c) return false;
    const i = lowerBound(c, key);
    if (c[i] !== key) return false;
    c.splice(i, 1);
    this.count--;
    if (c.length === 0) this.chunks.splice(ci, 1);
    else if (c.length < MIN_CHUNK) this.mergeAround(ci);
    return true;
  }

  /** Up to `limit` keys strictly after `after` (from the start when null), in order. */
  page(after: string | null, limit: number): string[] {
    const out: string[] = [];
    let ci = after === null ? 0 : this.chunkAfter(after);
    let i = after === null ? 0 : upperBound(this.chunks[ci] ?? [], after);
    for (; ci < this.chunks.length && out.length < limit; ci++, i = 0) {
      const c = this.chunks[ci]!;
      for (; i < c.length && out.length < limit; i++) out.push(c[i]!);
    }
    return out;
  }

  /** Every key in order (tests, small sets). */
  toArray(): string[] {
    return this.chunks.flat();
  }

  /** Index of the first chunk whose last key is >= key (chunks.length when none). */
  private chunkFor(key: string): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.chunks[mid]!;
      if (c[c.length - 1]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first chunk whose last key is > key. */
  private chunkAfter(key: string): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.chunks[mid]!;
      if (c[c.length - 1]! <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private mergeAround(ci: number): void {
    const c = this.chunks[ci]!;
    const next = this.chunks[ci + 1];
    if (next && c.length + next.length <= MAX_CHUNK) {
      this.chunks.splice(ci, 2, c.concat(next));
      return;
    }
    const prev = this.chunks[ci - 1];
    if (prev && prev.length + c.length <= MAX_CHUNK) this.chunks.splice(ci - 1, 2, prev.concat(c));
  }
}

/** First index with a[i] >= key. */
function lowerBound(a: readonly string[], key: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with a[i] > key. */
function upperBound(a: readonly string[], key: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
