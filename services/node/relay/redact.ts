/**
 * A relay URL as it may be logged and listed: a password becomes `***`, a query (tokens,
 * signatures) becomes `?***`, and with `hideName` the last path segment too (a CDN's stream key
 * is the secret of a push target: `rtmp://host/app/***`). Never throws.
 */
export function redactRelayUrl(url: string, opts: { hideName?: boolean } = {}): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '***';
  }
  const user = u.username ? `${u.username}${u.password ? ':***' : ''}@` : '';
  let path = u.pathname;
  if (opts.hideName) {
    const cut = path.lastIndexOf('/');
    path = cut > 0 ? `${path.slice(0, cut)}/***` : '/***';
  }
  const query = u.search ? '?***' : '';
  return `${u.protocol}//${user}${u.host}${path}${query}`;
}
