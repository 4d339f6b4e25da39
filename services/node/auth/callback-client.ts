import type { Logger } from 'pino';
import { parseCallbackAnswer, MAX_ANSWER_BYTES } from '../../../libs/auth/callback-answer.ts';
import { DecisionCache } from '../../../libs/auth/decision-cache.ts';
import type { Counters } from '../../../libs/metrics/counters.ts';
import type { AuthConfig } from './auth-config.ts';

/** What the callback is told (SRS's on_publish / on_play field names where SRS has one). */
export interface CallbackRequest {
  action: 'on_publish' | 'on_play';
  client_id: string;
  ip: string;
  vhost: string;
  app: string;
  stream: string;
  /** The query, `?a=b` (SRS's form), or '' without one. */
  param: string;
  protocol: string;
  server_id: string;
  node_id: string;
}

export type CallbackOutcome = { allow: true } | { allow: false; why: string; failed: boolean };

/**
 * Asks the configured URL whether a publish or play may start. Answers (either way) are cached
 * for `cacheMs` per action, stream, query, client address and protocol; a failure (timeout, network error,
 * 5xx, an unreadable answer from a 2xx) is never cached and allows only with `failOpen`.
 */
export class CallbackClient {
  private readonly cfg: AuthConfig['callback'];
  private readonly cache: DecisionCache<CallbackOutcome>;
  private readonly counters: Counters;
  private readonly log: Logger;

  constructor(cfg: AuthConfig['callback'], counters: Counters, log: Logger) {
    this.cfg = cfg;
    this.cache = new DecisionCache(cfg.cacheMs, cfg.cacheMaxEntries);
    this.counters = counters;
    this.log = log;
  }

  async ask(url: string, body: CallbackRequest): Promise<CallbackOutcome> {
    // The protocol too: a callback may allow HLS and refuse RTMP for the same client and query.
    const cacheKey = JSON.stringify([body.action, body.app, body.stream, body.param, body.ip, body.protocol]);
    const cached = this.cache.get(cacheKey, performance.now());
    if (cached) {
      this.counters.inc('auth_callback_cache_hits');
      return cached;
    }
    const outcome = await this.post(url, body);
    if (!outcome.allow && outcome.failed) {
      if (this.cfg.failOpen) return { allow: true };
      return outcome;
    }
    this.cache.set(cacheKey, outcome, performance.now());
    return outcome;
  }

  private async post(url: string, body: CallbackRequest): Promise<CallbackOutcome> {
    const started = performance.now();
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
        redirect: 'error',
      });
      const text = await readCapped(res);
      if (res.status >= 500) return this.failed('status', `callback answered ${res.status}`);
      const a = parseCallbackAnswer(res.status, text);
      this.counters.inc('auth_callbacks', 1, { action: body.action, result: a.allow ? 'allow' : 'deny' });
      return a.allow ? a : { allow: false, why: `callback refused (${a.why})`, failed: false };
    } catch (e) {
      const timeout = (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError';
      const ms = Math.round(performance.now() - started);
      // The URL may carry a credential of its own: only its origin is logged.
      this.log.warn(
        { callback: originOf(url), ms, err: timeout ? 'timeout' : (e as Error).message },
        'auth callback failed',
      );
      return this.failed(timeout ? 'timeout' : 'error', timeout ? 'callback timed out' : 'callback failed');
    }
  }

  private failed(reason: string, why: string): CallbackOutcome {
    this.counters.inc('auth_callback_failures', 1, { reason });
    return { allow: false, why, failed: true };
  }
}

async function readCapped(res: Response): Promise<string> {
  // Read as it arrives and stop at the cap: a hostile callback cannot make us hold a big body.
  const chunks: Buffer[] = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    while (size <= MAX_ANSWER_BYTES) {
      const next = await reader.read();
      if (next.done) break;
      chunks.push(Buffer.from(next.value));
      size += next.value.byteLength;
    }
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks, size)
    .subarray(0, MAX_ANSWER_BYTES + 1)
    .toString('utf8');
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '?';
  }
}
