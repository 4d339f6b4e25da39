/** One queued disk operation. `run` must not throw (it reports its own errors). */
export interface QueuedOp {
  /** Bytes this op holds while queued (what the queue bound counts). */
  cost: number;
  run(): Promise<void>;
}

/**
 * Every op counts at least this much against the bound, so a flood of deletes cannot grow the
 * queue without bound either.
 */
const MIN_OP_COST = 256;

/**
 * An ordered queue of asynchronous disk operations for one stream: one op runs at a time, in
 * the order given (a segment is on disk before the playlist that lists it). Bounded in bytes:
 * `offer` refuses a droppable op that would take the queue over `maxQueuedBytes`.
 */
export class WriteQueue {
  private readonly maxQueuedBytes: number;
  private readonly ops: QueuedOp[] = [];
  private queued = 0;
  private running = false;
  private idleWaiters: (() => void)[] = [];

  private readonly onIdle: (() => void) | undefined;

  /** `onIdle`: called each time the last queued op has run. */
  constructor(maxQueuedBytes: number, onIdle?: () => void) {
    if (!Number.isSafeInteger(maxQueuedBytes) || maxQueuedBytes < 0) {
      throw new RangeError(`maxQueuedBytes must be a non-negative integer, got ${maxQueuedBytes}`);
    }
    this.maxQueuedBytes = maxQueuedBytes;
    this.onIdle = onIdle;
  }

  /**
   * Queues `op`; false (nothing queued) when it is droppable and does not fit. Deletes are not
   * droppable: losing one would leak a file forever.
   */
  offer(op: QueuedOp, droppable: boolean): boolean {
    const cost = Math.max(op.cost, MIN_OP_COST);
    if (droppable && this.queued + cost > this.maxQueuedBytes) return false;
    op.cost = cost;
    this.queued += cost;
    this.ops.push(op);
    if (!this.running) void this.drain();
    return true;
  }

  /** Changes the cost of an op still waiting (a playlist op whose text was replaced). */
  recost(op: QueuedOp, cost: number): void {
    const c = Math.max(cost, MIN_OP_COST);
    this.queued += c - op.cost;
    op.cost = c;
  }

  /** The op is the last one queued and has not started (it may still be changed). */
  isLastWaiting(op: QueuedOp): boolean {
    return this.ops.length > 0 && this.ops[this.ops.length - 1] === op;
  }

  get queuedBytes(): number {
    return this.queued;
  }

  get idle(): boolean {
    return !this.running && this.ops.length === 0;
  }

  /** Resolves when every op queued so far (and after) has run. */
  flush(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    this.running = true;
    // Queues stay short (bounded in bytes), so shift() is cheap enough.
    for (let op = this.ops.shift(); op; op = this.ops.shift()) {
      try {
        await op.run();
      } catch {
        // run() reports its own errors; nothing may escape into the media path.
      }
      this.queued -= op.cost;
    }
    this.running = false;
    this.onIdle?.();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
