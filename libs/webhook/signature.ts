import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers every webhook request carries (names are case-insensitive on the wire). */
export const WebhookHeader = {
  /** `sha256=<hex>`: HMAC-SHA256 with the shared secret over `<timestamp>.<body>`. */
  Signature: 'X-Sluice-Signature',
  /** Unix seconds when this attempt was signed; receivers reject old ones (replays). */
  Timestamp: 'X-Sluice-Timestamp',
  /** The same on every attempt of one event: receivers de-duplicate on it. */
  EventId: 'X-Sluice-Event-Id',
  /** The event name (`on_pub_start`...), also in the body's `event`. */
  Event: 'X-Sluice-Event',
  /** 1 on the first attempt, then 2, 3...: a receiver can tell a retry. */
  Attempt: 'X-Sluice-Attempt',
} as const;

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestampS}.${body}`). */
export function signWebhook(secret: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampS}.`).update(body).digest('hex');
  return `sha256=${mac}`;
}

export type VerifyResult = { ok: true } | { ok: false; why: 'bad-signature' | 'bad-timestamp' | 'too-old' };

/**
 * What a receiver does: recompute the signature over the raw body (before any JSON parsing),
 * compare in constant time, and refuse timestamps further than `toleranceS` from its clock.
 */
export function verifyWebhook(
  secret: string,
  headers: { signature: string; timestamp: string },
  body: string,
  nowS: number,
  toleranceS = 300,
): VerifyResult {
  if (!/^\d{1,12}$/.test(headers.timestamp)) return { ok: false, why: 'bad-timestamp' };
  const ts = Number(headers.timestamp);
  if (Math.abs(nowS - ts) > toleranceS) return { ok: false, why: 'too-old' };
  const want = Buffer.from(signWebhook(secret, ts, body));
  const got = Buffer.from(headers.signature);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { ok: false, why: 'bad-signature' };
  return { ok: true };
}
