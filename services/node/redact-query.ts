/**
 * A URL with every query value replaced by `***` (keys kept): stream keys, tokens and
 * signatures travel in query strings, and what we log or send on must not carry them.
 * Works on any scheme (rtmp://, rtsp://) and on strings that are not URLs at all.
 */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=***`;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}
