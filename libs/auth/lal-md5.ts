import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * lal's "simple auth", for servers migrating from lalserver: the `lal_secret` query parameter
 * must be md5(key + stream name) in hex (the stream name alone, without the app), compared
 * lowercased; when `dangerous_lal_secret` is set, that fixed value passes for every stream too.
 */
export const LAL_SECRET_PARAM = 'lal_secret';

export type LalVerdict = 'ok' | 'missing' | 'bad_secret';

/** md5(key + streamName) as lowercase hex (lal's SimpleAuthCalcSecret). */
export function lalSecret(key: string, streamName: string): string {
  return createHash('md5')
    .update(key + streamName)
    .digest('hex');
}

export function checkLalSecret(
  query: Record<string, string>,
  streamName: string,
  cfg: { key: string; dangerousLalSecret: string },
): LalVerdict {
  const given = query[LAL_SECRET_PARAM];
  if (given === undefined || given === '') return 'missing';
  const v = given.toLowerCase();
  let ok = false;
  // The fixed secret is compared as configured (lal compares it exactly): `LetMeIn` must work.
  if (cfg.dangerousLalSecret !== '' && sameString(given, cfg.dangerousLalSecret)) ok = true;
  if (sameString(v, lalSecret(cfg.key, streamName))) ok = true;
  return ok ? 'ok' : 'bad_secret';
}

/** Constant-time equality of two strings (their lengths are not secret). */
export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
