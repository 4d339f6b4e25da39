import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { backoffMs } from './backoff.ts';
import { DeliveryQueue, type Delivery, type Settled } from './delivery-queue.ts';
import { fetchPost, outcomeOfStatus, type WebhookPost } from './http-post.ts';
import { signWebhook, WebhookHeader } from './signature.ts';

export interface WebhookSenderOptions {
  /** HMAC key; '' sends unsigned requests (no signature header). Never logged. */
  secret: string;
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Events held at most (in flight included). */
  queueSize: number;
  concurrency: number;
  log: Logger;
  counters: { inc(name: string, by?: number, labels?: Record<string, string>): void };
  /** The request (tests may pass another); fetch by default. */
  post?: WebhookPost;
  random?: () => number;
}

/** Failures are logged at most this often (the rest are counted into the next line). */
const FAIL_LOG_EVERY_MS = 10_000;

/**
 * Sends signed webhooks from a bounded queue: `send` only queues and returns (nothing on the
 * media path waits for a receiver); requests go out a few at a time, each lane in order, with
 * retries (exponential backoff, full jitter) on network errors, timeouts, 5xx and 429.
 * Counters: webhook_sent{event}, webhook_retries{event}, webhook_failed{event,reason},
 * webhook_dropped{event,reason}.
 */
export class WebhookSender {
  private readonly o: WebhookSenderOptions;
  private readonly queue: DeliveryQueue;
  private readonly post: WebhookPost;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private closed = false;
  private readonly running = new Set<Promise<void>>();
  private lastFailLog = 0;
  private failsUnlogged = 0;

  constructor(o: WebhookSenderOptions) {
    this.o = o;
    this.post = o.post ?? fetchPost;
    const random = o.random ?? Math.random;
    this.queue = new DeliveryQueue({
      maxQueued: o.queueSize,
      concurrency: o.concurrency,
      maxRetries: o.retries,
      backoff: (n) => backoffMs(n, o.retryBaseMs, o.retryMaxMs, random),
    });
  }

  /** Events held now (waiting, retrying, in flight). */
  get queued(): number {
    return this.queue.size;
  }

  /**
   * Queues `payload` for `url`; events with the same `orderKey` (and URL) arrive in order.
   * Returns the event id, or null when it was dropped (queue full, closed). Never throws.
   */
  send(event: string, url: string, orderKey: string, payload: object): string | null {
    if (this.closed) {
      this.o.counters.inc('webhook_dropped', 1, { event, reason: 'closed' });
      return null;
    }
    const id = randomUUID();
    const body = JSON.stringify(payload);
    if (!this.queue.push({ id, event, url, orderKey, body }, Date.now())) {
      this.o.counters.inc('webhook_dropped', 1, { event, reason: 'queue_full' });
      this.failed(event, url, 'queue full: event dropped', {});
      return null;
    }
    this.pump();
    return id;
  }

  /**
   * Stops: keeps delivering what is queued (and what is sent meanwhile: the stop events of the
   * sessions a shutdown ends) for up to `graceMs`, then drops (and counts) the rest.
   */
  async close(graceMs = 1000): Promise<void> {
    if (this.closed) return;
    const deadline = performance.now() + graceMs;
    while (this.queue.size > 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(20, Math.max(1, deadline - performance.now()))));
    }
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const d of this.queue.clear())
      this.o.counters.inc('webhook_dropped', 1, { event: d.event, reason: 'closed' });
  }

  private pump(): void {
    if (this.closed) return;
    const now = Date.now();
    for (const d of this.queue.take(now)) {
      const p = this.attempt(d).finally(() => this.running.delete(p));
      this.running.add(p);
    }
    this.arm();
  }

  /** One timer, for the earliest retry that waits. */
  private arm(): void {
    const at = this.queue.nextDueAt();
    if (at === null || (this.timer && this.timerAt <= at)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.pump();
      },
      Math.max(0, at - Date.now()),
    );
    this.timer.unref();
  }

  private async attempt(d: Delivery): Promise<void> {
    const ts = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'sluice-webhook',
      [WebhookHeader.EventId]: d.id,
      [WebhookHeader.Event]: d.event,
      [WebhookHeader.Attempt]: String(d.attempts),
      [WebhookHeader.Timestamp]: String(ts),
    };
    if (this.o.secret) headers[WebhookHeader.Signature] = signWebhook(this.o.secret, ts, d.body);
    let outcome: 'ok' | 'retry' | 'fail';
    let why: string;
    try {
      const status = await this.post(d.url, headers, d.body, this.o.timeoutMs);
      outcome = outcomeOfStatus(status);
      why = `HTTP ${status}`;
    } catch (e) {
      outcome = 'retry';
      const err = e as Error;
      why = err.name === 'TimeoutError' ? `timeout after ${this.o.timeoutMs} ms` : errorText(err);
    }
    if (this.closed) return;
    this.settled(d, this.queue.settle(d, outcome, Date.now()), why);
    this.pump();
  }

  private settled(d: Delivery, s: Settled, why: string): void {
    const event = d.event;
    switch (s) {
      case 'delivered':
        this.o.counters.inc('webhook_sent', 1, { event });
        return;
      case 'retrying':
        this.o.counters.inc('webhook_retries', 1, { event });
        this.failed(event, d.url, 'webhook attempt failed; retrying', { why, attempt: d.attempts });
        return;
      case 'rejected':
        this.o.counters.inc('webhook_failed', 1, { event, reason: 'rejected' });
        this.failed(event, d.url, 'webhook refused by the receiver; not retried', { why });
        return;
      case 'exhausted':
        this.o.counters.inc('webhook_failed', 1, { event, reason: 'retries_exhausted' });
        this.failed(event, d.url, 'webhook given up after its retries', { why, attempts: d.attempts });
    }
  }

  /** Logs a failure at most every FAIL_LOG_EVERY_MS; the ones in between are counted into it. */
  private failed(event: string, url: string, msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.lastFailLog < FAIL_LOG_EVERY_MS) {
      this.failsUnlogged++;
      return;
    }
    this.lastFailLog = now;
    const suppressed = this.failsUnlogged;
    this.failsUnlogged = 0;
    this.o.log.warn(
      {
        event,
        url: redactUrl(url),
        queued: this.queue.size,
        ...fields,
        ...(suppressed ? { suppressed } : {}),
      },
      msg,
    );
  }
}

/** Scheme, host and path only: user info and query strings may carry credentials. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

function errorText(e: Error): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? e.message;
}
