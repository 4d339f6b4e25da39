/**
 * Paging of the scheduler's listings: `?limit=` (1..MAX_LIMIT, default DEFAULT_LIMIT) and
 * `?cursor=`, an opaque token the previous page returned as `nextCursor`. The token is the
 * base64url of the listing's name and the last key of that page, so a page starts strictly
 * after it: still correct when that key has gone since, and empty past the end.
 */

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** Longest decoded cursor: a listing tag, ':' and a stream key (512) or node id (128), with room. */
const MAX_CURSOR_CHARS = 1100;

export type Listing = 'streams' | 'nodes';

export interface PageRequest {
  limit: number;
  /** Start strictly after this key; null = from the beginning. */
  after: string | null;
}

export type PageParse = PageRequest | { error: string };

export function encodeCursor(listing: Listing, lastKey: string): string {
  return Buffer.from(`${listing}:${lastKey}`, 'utf8').toString('base64url');
}

/** null when the token is not one this listing handed out (malformed, or another listing's). */
export function decodeCursor(listing: Listing, token: string): string | null {
  if (token.length === 0 || token.length > (MAX_CURSOR_CHARS * 4) / 3 + 4) return null;
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return null;
  const text = Buffer.from(token, 'base64url').toString('utf8');
  // Round trip: rejects non-canonical tokens and bytes that are not UTF-8.
  if (Buffer.from(text, 'utf8').toString('base64url') !== token) return null;
  const prefix = `${listing}:`;
  if (!text.startsWith(prefix) || text.length === prefix.length) return null;
  return text.slice(prefix.length);
}

/** Reads `limit` and `cursor` from a query string; an error says what was wrong (HTTP 400). */
export function parsePage(listing: Listing, query: URLSearchParams): PageParse {
  let limit = DEFAULT_LIMIT;
  const l = query.get('limit');
  if (l !== null) {
    if (!/^[0-9]{1,7}$/.test(l) || Number(l) < 1 || Number(l) > MAX_LIMIT) {
      return { error: `limit must be an integer from 1 to ${MAX_LIMIT}` };
    }
    limit = Number(l);
  }
  const c = query.get('cursor');
  if (c === null) return { limit, after: null };
  const after = decodeCursor(listing, c);
  if (after === null) return { error: 'invalid cursor: pass the nextCursor of the previous page' };
  return { limit, after };
}

/**
 * A page from `page(after, limit + 1)`: the extra key tells whether there is a next page,
 * so the last page says `nextCursor: null` without a second lookup.
 */
export function pageOf(
  listing: Listing,
  keys: readonly string[],
  limit: number,
): { keys: readonly string[]; nextCursor: string | null } {
  if (keys.length <= limit) return { keys, nextCursor: null };
  const shown = keys.slice(0, limit);
  return { keys: shown, nextCursor: encodeCursor(listing, shown[shown.length - 1]!) };
}
