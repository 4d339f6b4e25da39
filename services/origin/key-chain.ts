/**
 * Runs async operations one after another per key, and different keys concurrently. The
 * registry calls of one stream (claim, refresh, release, orphan cleanup) must reach Redis in
 * the order they were decided: a release re-sent after NOSCRIPT could otherwise land after a
 * claim made since and delete it.
 */
export class KeyChain {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  get size(): number {
    return this.tails.size;
  }
}
