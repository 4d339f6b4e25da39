/** Splits `s` at `sep` outside double-quoted strings (RFC 2326 §15.1 quoted-string). */
export function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && quoted) i++;
    else if (c === sep && !quoted) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** `name=value` (value unquoted) or a bare `name`; the name lower-cased. */
export function splitParam(p: string): { key: string; value: string | null } {
  const eq = p.indexOf('=');
  if (eq < 0) return { key: p.trim().toLowerCase(), value: null };
  return { key: p.slice(0, eq).trim().toLowerCase(), value: unquote(p.slice(eq + 1).trim()) };
}

export function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}
