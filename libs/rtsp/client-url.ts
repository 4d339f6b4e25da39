/**
 * Client-side URL handling: requests go without the userinfo (credentials travel only in
 * Authorization), and logs never show the password.
 */

/** scheme://, authority, and the rest (path, query); the fragment is dropped. */
function split(
  url: string,
): { scheme: string; userinfo: string | null; hostPort: string; tail: string } | null {
  const m = /^(rtsps?:\/\/)/i.exec(url);
  if (!m) return null;
  const rest = url.slice(m[1]!.length).replace(/#.*$/s, '');
  const end = rest.search(/[/?]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const tail = end < 0 ? '' : rest.slice(end);
  // The last '@' ends the userinfo, as parseRtspUrl reads it.
  const at = authority.lastIndexOf('@');
  return {
    scheme: m[1]!,
    userinfo: at < 0 ? null : authority.slice(0, at),
    hostPort: at < 0 ? authority : authority.slice(at + 1),
    tail,
  };
}

/** The URL to put in request lines: `rtsp://user:pw@h:1/p?q` -> `rtsp://h:1/p?q`. */
export function requestUrl(url: string): string {
  const s = split(url);
  return s ? `${s.scheme}${s.hostPort}${s.tail}` : url;
}

/** The URL for logs: the user kept, the password replaced with `***`. */
export function redactUrl(url: string): string {
  const s = split(url);
  if (!s) return url.replace(/\/\/[^/@]*@/, '//***@');
  if (s.userinfo === null) return `${s.scheme}${s.hostPort}${s.tail}`;
  const colon = s.userinfo.indexOf(':');
  const user = colon < 0 ? s.userinfo : s.userinfo.slice(0, colon);
  return `${s.scheme}${user}:***@${s.hostPort}${s.tail}`;
}
