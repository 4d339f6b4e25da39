/**
 * Exponential backoff with full jitter: a delay drawn uniformly from [0, min(maxMs, baseMs * 2^n))
 * before retry n (0 = the first retry). Full jitter spreads the retries of many senders that
 * failed together (a receiver restart), so they do not come back in step.
 */
export function backoffMs(
  retry: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(retry, 30));
  return Math.floor(random() * cap);
}
