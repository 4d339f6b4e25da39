import { splitOutsideQuotes, unquote } from './split.ts';

/** One challenge (WWW-Authenticate) or credentials (Authorization), RFC 7235 §2.1. */
export interface AuthItem {
  /** Lower-cased: 'basic', 'digest'. */
  scheme: string;
  /** auth-params, names lower-cased, values unquoted. */
  params: Map<string, string>;
  /** token68 form (Basic credentials), when the item has one. */
  token68?: string;
}

/** Longer values are not auth headers anyone sends; bounds the work on garbage. */
const MAX_VALUE_LENGTH = 8192;
const SCHEME_START = /^\s*([A-Za-z][A-Za-z0-9_-]*)(?:\s+(.*))?$/s;
const PARAM = /^\s*([A-Za-z0-9_-]+)\s*=\s*(.*?)\s*$/s;

/**
 * Parses a header value into challenges or credentials: `Digest realm="a, b", nonce="n"`,
 * `Basic realm="x"`, `Basic dXNlcjpwYXNz`, several comma-separated challenges in one value
 * (RFC 7235 §4.1 allows it). Never throws; unparseable pieces are skipped.
 */
export function parseAuthItems(value: string): AuthItem[] {
  if (value.length > MAX_VALUE_LENGTH) return [];
  const items: AuthItem[] = [];
  let current: AuthItem | null = null;
  for (const piece of splitOutsideQuotes(value, ',')) {
    if (piece.trim() === '') continue;
    const param = PARAM.exec(piece);
    const start = SCHEME_START.exec(piece);
    // "Scheme rest": a word followed by white space and not by '=' starts a new item.
    if (start && !(param && param[1] === start[1])) {
      current = { scheme: start[1]!.toLowerCase(), params: new Map() };
      items.push(current);
      const rest = (start[2] ?? '').trim();
      if (rest === '') continue;
      const p = PARAM.exec(rest);
      if (p && !/^[A-Za-z0-9+/._~-]+=*$/.test(rest)) current.params.set(p[1]!.toLowerCase(), unquote(p[2]!));
      else if (/^[A-Za-z0-9+/._~-]+=*$/.test(rest)) current.token68 = rest;
      continue;
    }
    if (current && param) current.params.set(param[1]!.toLowerCase(), unquote(param[2]!));
  }
  return items;
}

/** A quoted-string (RFC 7230 §3.2.6) of `s`. */
export function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}
