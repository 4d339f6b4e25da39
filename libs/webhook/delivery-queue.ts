/**
 * The sans-I/O core of webhook delivery: which event goes out next, when a failed one is tried
 * again, and what is refused when the queue is full. The caller owns sockets and timers; this
 * holds only the order and the counts, with times given by the caller's clock.
 *
 * Order: events of one lane (one URL and one order key, e.g. a stream) leave strictly in the
 * order they were queued. A lane's head is retried before anything behind it is tried, so a
 * receiver never sees `on_pub_stop` before the `on_pub_start` it retried; the price is that a
 * failing receiver holds up that lane (bounded: retries x (timeout + backoff)) while other
 * lanes go on.
 */
export interface Delivery {
  /** Stable across attempts (receivers de-duplicate on it). */
  readonly id: string;
  readonly event: string;
  readonly url: string;
  readonly lane: string;
  readonly body: string;
  /** Attempts made so far (0 before the first). */
  attempts: number;
  /** Not to be tried before this time (caller's clock, ms). */
  dueAt: number;
}

export interface NewDelivery {
  id: string;
  event: string;
  url: string;
  /** Events with the same URL and order key are delivered in order. */
  orderKey: string;
  body: string;
}

/** ok: delivered. retry: worth trying again (network error, timeout, 5xx, 429). fail: never (other 4xx). */
export type AttemptOutcome = 'ok' | 'retry' | 'fail';
export type Settled = 'delivered' | 'retrying' | 'rejected' | 'exhausted';

export interface DeliveryQueueOptions {
  /** Events held at most, in flight included; past it new events are refused. */
  maxQueued: number;
  /** Requests in flight at most. */
  concurrency: number;
  /** Attempts after the first; then the event is given up. */
  maxRetries: number;
  /** Delay before retry n (0-based), ms. */
  backoff: (retry: number) => number;
}

export class DeliveryQueue {
  private readonly o: DeliveryQueueOptions;
  /** FIFO per lane; the head is the one in flight or waiting for its retry. */
  private readonly lanes = new Map<string, Delivery[]>();
  private readonly busy = new Set<string>();
  private count = 0;

  constructor(o: DeliveryQueueOptions) {
    this.o = o;
  }

  /** Events held (waiting, retrying or in flight). */
  get size(): number {
    return this.count;
  }

  get inFlight(): number {
    return this.busy.size;
  }

  /** Queues an event, due at once; false (nothing kept) when the queue is full. */
  push(n: NewDelivery, now: number): boolean {
    if (this.count >= this.o.maxQueued) return false;
    const lane = `${n.url}\n${n.orderKey}`;
    const d: Delivery = { id: n.id, event: n.event, url: n.url, lane, body: n.body, attempts: 0, dueAt: now };
    const q = this.lanes.get(lane);
    if (q) q.push(d);
    else this.lanes.set(lane, [d]);
    this.count++;
    return true;
  }

  /** The deliveries to start now (each lane's head when due, within the concurrency); marked in flight. */
  take(now: number): Delivery[] {
    const out: Delivery[] = [];
    for (const [lane, q] of this.lanes) {
      if (this.busy.size >= this.o.concurrency) break;
      const head = q[0];
      if (!head || this.busy.has(lane) || head.dueAt > now) continue;
      this.busy.add(lane);
      head.attempts++;
      out.push(head);
    }
    return out;
  }

  /** The result of an attempt taken with `take`. */
  settle(d: Delivery, outcome: AttemptOutcome, now: number): Settled {
    this.busy.delete(d.lane);
    if (outcome === 'retry' && d.attempts <= this.o.maxRetries) {
      d.dueAt = now + this.o.backoff(d.attempts - 1);
      return 'retrying';
    }
    this.remove(d);
    if (outcome === 'ok') return 'delivered';
    return outcome === 'fail' ? 'rejected' : 'exhausted';
  }

  /** When the earliest waiting head falls due (null: nothing waits outside the in-flight ones). */
  nextDueAt(): number | null {
    let next: number | null = null;
    for (const [lane, q] of this.lanes) {
      const head = q[0];
      if (!head || this.busy.has(lane)) continue;
      if (next === null || head.dueAt < next) next = head.dueAt;
    }
    return next;
  }

  /** Removes and returns everything not in flight (shutdown). */
  clear(): Delivery[] {
    const out: Delivery[] = [];
    for (const [lane, q] of this.lanes) {
      const keep = this.busy.has(lane) ? q.splice(0, 1) : [];
      out.push(...q);
      if (keep.length) this.lanes.set(lane, keep);
      else this.lanes.delete(lane);
    }
    this.count -= out.length;
    return out;
  }

  private remove(d: Delivery): void {
    const q = this.lanes.get(d.lane);
    if (!q || q[0] !== d) return;
    q.shift();
    this.count--;
    if (q.length === 0) this.lanes.delete(d.lane);
  }
}
