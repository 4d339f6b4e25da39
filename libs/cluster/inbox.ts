/**
 * Received messages, handled a slice at a time. A NATS read can hand over hundreds of events at
 * once (a thousand nodes heartbeat every two seconds); decoding, validating and applying them in
 * one go would hold up everything else the process does (a scheduler's answers, a node's
 * media) for milliseconds. Here at most `slice` are handled per event-loop turn, in arrival
 * order, and the backlog is bounded: past `max`, new messages are refused (the caller counts
 * them) rather than growing memory.
 */
export class Inbox<T> {
  private readonly items: T[] = [];
  private head = 0;
  private scheduled = false;
  private readonly handle: (item: T) => void;
  private readonly onError: (err: unknown, item: T) => void;
  private readonly slice: number;
  private readonly max: number;

  /** `onError` hears what `handle` threw; the items after it are handled all the same. */
  constructor(
    handle: (item: T) => void,
    o: { slice?: number; max?: number; onError: (err: unknown, item: T) => void },
  ) {
    this.handle = handle;
    this.onError = o.onError;
    this.slice = o.slice ?? 64;
    this.max = o.max ?? 50_000;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** False when the backlog is full (the item is not kept). */
  push(item: T): boolean {
    if (this.size >= this.max) return false;
    this.items.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
    return true;
  }

  clear(): void {
    this.items.length = 0;
    this.head = 0;
  }

  private drain(): void {
    this.scheduled = false;
    const end = Math.min(this.items.length, this.head + this.slice);
    while (this.head < end) {
      const item = this.items[this.head]!;
      this.head++;
      try {
        this.handle(item);
      } catch (e) {
        this.onError(e, item);
      }
    }
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else {
      if (this.head > 4096) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }
}
