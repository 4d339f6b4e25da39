import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed URLs: `?expires=<unix seconds>&sign=<hex HMAC-SHA256>` over the action, the app, the
 * stream name and the expiry, so a signature for playing `live/a` neither plays `live/b` nor
 * publishes `live/a`, and stops working at its expiry. Several secrets may be valid at once
 * (rotation): a signature made with any of them passes.
 */
export const EXPIRES_PARAM = 'expires';
export const SIGN_PARAM = 'sign';

export type AuthAction = 'publish' | 'play';

/** Why a signature was refused (or `ok`). */
export type SignatureVerdict = 'ok' | 'missing' | 'malformed' | 'expired' | 'too_long' | 'bad_signature';

const EXPIRES_RE = /^[0-9]{1,12}$/;
const SIGN_RE = /^[0-9a-fA-F]{64}$/;

/** `app/more/name` into the app (`app/more`) and the stream name; the key must have a `/`. */
export function splitKey(key: string): { app: string; name: string } {
  const slash = key.lastIndexOf('/');
  return { app: key.slice(0, Math.max(0, slash)), name: key.slice(slash + 1) };
}

/** The bytes signed: one field a line, so no field can slide into the next. */
export function signingInput(action: AuthAction, key: string, expiresS: number): string {
  const { app, name } = splitKey(key);
  return `${action}\n${app}\n${name}\n${expiresS}`;
}

/** The hex signature of (action, key, expiry) with `secret`. */
export function signStream(secret: string, action: AuthAction, key: string, expiresS: number): string {
  return createHmac('sha256', secret)
    .update(signingInput(action, key, expiresS))
    .digest('hex');
}

/** The query (`expires=…&sign=…`) that lets `action` on `key` until `expiresS`. */
export function signedQuery(secret: string, action: AuthAction, key: string, expiresS: number): string {
  return `${EXPIRES_PARAM}=${expiresS}&${SIGN_PARAM}=${signStream(secret, action, key, expiresS)}`;
}

export interface VerifyOptions {
  secrets: readonly string[];
  action: AuthAction;
  key: string;
  query: Record<string, string>;
  nowS: number;
  /** Refuse expiries further than this in the future (0: any). */
  maxTtlS?: number;
}

/** Checks a request's `expires` and `sign` against every configured secret, in constant time each. */
export function verifySignature(o: VerifyOptions): SignatureVerdict {
  const expires = o.query[EXPIRES_PARAM];
  const sign = o.query[SIGN_PARAM];
  if (expires === undefined && sign === undefined) return 'missing';
  if (expires === undefined || sign === undefined) return 'malformed';
  if (!EXPIRES_RE.test(expires) || !SIGN_RE.test(sign)) return 'malformed';
  const expiresS = Number(expires);
  if (expiresS <= o.nowS) return 'expired';
  if (o.maxTtlS && expiresS - o.nowS > o.maxTtlS) return 'too_long';
  const got = Buffer.from(sign, 'hex');
  let ok = false;
  for (const secret of o.secrets) {
    const want = createHmac('sha256', secret)
      .update(signingInput(o.action, o.key, expiresS))
      .digest();
    // Every secret is tried (no early exit): the time does not say which one matched.
    if (timingSafeEqual(want, got)) ok = true;
  }
  return ok ? 'ok' : 'bad_signature';
}
