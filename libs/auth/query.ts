/**
 * Query strings as authorization reads them, and their redaction for logs. Query values may
 * carry credentials (`sign`, `lal_secret`, tokens for a callback), so a log line only ever shows
 * the parameter names.
 */

/** Longest query string read; a longer one is cut here (credentials are short). */
export const MAX_QUERY_CHARS = 4096;

/** `a=1&b=2` (a leading `?` allowed) as a record; the first value of a repeated name wins. Never throws. */
export function parseQuery(qs: string): Record<string, string> {
  const out: Record<string, string> = {};
  const s = qs.startsWith('?') ? qs.slice(1) : qs;
  for (const [k, v] of new URLSearchParams(s.slice(0, MAX_QUERY_CHARS))) {
    if (k === '__proto__' || Object.hasOwn(out, k)) continue;
    out[k] = v;
  }
  return out;
}

/** The query of a URL (`rtmp://h/app?x=y` gives `{x: 'y'}`); `{}` without one. */
export function queryOfUrl(url: string): Record<string, string> {
  const q = url.indexOf('?');
  if (q < 0) return {};
  const hash = url.indexOf('#', q);
  return parseQuery(url.slice(q + 1, hash < 0 ? undefined : hash));
}

/** A record back to `a=1&b=2` (form encoding), for a callback's `param`. */
export function formatQuery(query: Record<string, string>): string {
  return new URLSearchParams(Object.entries(query)).toString();
}

/**
 * The URL, path or stream name with every query value replaced by `***` (`live/x?sign=***&e=***`).
 * Names are kept so a log still says which parameters came.
 */
export function redactQuery(s: string): string {
  const q = s.indexOf('?');
  if (q < 0) return s;
  const rest = s.slice(q + 1);
  const hash = rest.indexOf('#');
  const qs = hash < 0 ? rest : rest.slice(0, hash);
  const parts = qs.split('&').map((p) => {
    const eq = p.indexOf('=');
    return eq < 0 ? p : `${p.slice(0, eq)}=***`;
  });
  return `${s.slice(0, q)}?${parts.join('&')}`;
}
