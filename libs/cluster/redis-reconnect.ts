// Apart from redis-client: the origin's liveness checks read the cap without loading ioredis.

/**
 * Reconnect forever with capped backoff (the origin re-claims from onReconnect): 200 ms more
 * per attempt, capped. The cap bounds how long a live process
 * can stay disconnected once Redis is back, which the takeover of a dead owner relies on
 * (REDIS_RECONNECT_CAP_MS).
 */
export const REDIS_RECONNECT_CAP_MS = 1000;
export const reconnectDelayMs = (attempt: number): number => Math.min(200 * attempt, REDIS_RECONNECT_CAP_MS);
