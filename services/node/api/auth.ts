import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** Who may call what on an API port (node or scheduler). */
export interface ApiAuthConfig {
  /** Accepted bearer tokens (several while rotating); empty: control from loopback only. */
  tokens: readonly string[];
  /** Stats need the token too (when tokens are set). */
  protectStats: boolean;
}

/** What an endpoint needs: open (health), stats, or control (changes something). */
export type Access = 'open' | 'stats' | 'control';

export type AuthRefusal = 'missing' | 'wrong' | 'not_loopback';

/**
 * `api.token` as configured (a string, a comma-separated string, or a list) plus the
 * environment's SLUICE_API_TOKEN-style value: the accepted tokens, blanks dropped.
 */
export function tokensOf(configured: string | readonly string[] | undefined, env?: string): string[] {
  const given: readonly string[] =
    typeof configured === 'string' ? configured.split(',') : (configured ?? []);
  const list: string[] = [...given, ...(env ?? '').split(',')];
  return [...new Set(list.map((t) => t.trim()).filter((t) => t !== ''))];
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Constant-time match of a presented token against every accepted one (the digests have one
 * length, so neither the length nor which token matched shows in the timing).
 */
export function tokenMatches(presented: string, tokens: readonly string[]): boolean {
  const p = digest(presented);
  let ok = false;
  for (const t of tokens) ok = timingSafeEqual(p, digest(t)) || ok;
  return ok;
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped form. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

/** null when the request may go on; otherwise why not. */
export function checkAccess(req: IncomingMessage, access: Access, cfg: ApiAuthConfig): AuthRefusal | null {
  if (access === 'open') return null;
  if (cfg.tokens.length === 0) {
    if (access === 'stats') return null;
    return isLoopback(req.socket.remoteAddress) ? null : 'not_loopback';
  }
  if (access === 'stats' && !cfg.protectStats) return null;
  const h = req.headers.authorization ?? '';
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(h);
  if (!m) return 'missing';
  return tokenMatches(m[1]!, cfg.tokens) ? null : 'wrong';
}
