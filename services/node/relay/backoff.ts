/** Between attempts of a relay: 1 s doubling to 30 s (lal and SRS retry at fixed intervals). */
export const BACKOFF_MIN_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;
/** A session that played this long was healthy: the next failure starts the backoff over. */
export const HEALTHY_AFTER_MS = 10_000;

/**
 * The wait before the next attempt after `failuresInARow` (>= 1) failures: capped doubling with
 * ±20 % jitter, so many relays of one source (or after one outage) do not stampede.
 */
export function backoffMs(failuresInARow: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(10, Math.max(0, failuresInARow - 1)));
  return Math.round(Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, base * (0.8 + 0.4 * random()))));
}
