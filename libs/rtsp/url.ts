import { isIPv6 } from 'node:net';
import { RtspErrorCode, quoteForError, rtspError } from './errors.ts';

export interface RtspUrl {
  /** rtsps:// (RTSP over TLS). */
  secure: boolean;
  /** Host name or address; an IPv6 address without its brackets. */
  host: string;
  port: number;
  /** Path as sent (still percent-encoded), '/' when absent. */
  path: string;
  /** Query without '?', '' when absent. */
  query: string;
  username?: string;
  password?: string;
}

/** Default ports: 554 for rtsp (RFC 2326 §3.2), 322 for rtsps (IANA). */
export const RTSP_DEFAULT_PORT = 554;
export const RTSPS_DEFAULT_PORT = 322;
const MAX_URL_LENGTH = 4096;
const HOST = /^[A-Za-z0-9._~%!$&'()*+,;=-]+$/;

/**
 * Parses an rtsp:// or rtsps:// URL (RFC 2326 §3.2). User and password are percent-decoded
 * (ffmpeg and VLC take `rtsp://user:p%40ss@host/...`). ProtocolError 'RTSP_BAD_URL' otherwise.
 */
export function parseRtspUrl(uri: string): RtspUrl {
  if (uri.length > MAX_URL_LENGTH) throw bad(uri);
  const scheme = /^(rtsps?):\/\//i.exec(uri);
  if (!scheme) throw bad(uri);
  const secure = scheme[1]!.toLowerCase() === 'rtsps';
  const rest = uri.slice(scheme[0].length).replace(/#.*$/s, '');
  const authEnd = rest.search(/[/?]/);
  const authority = authEnd < 0 ? rest : rest.slice(0, authEnd);
  const tail = authEnd < 0 ? '' : rest.slice(authEnd);
  const q = tail.indexOf('?');
  const path = (q < 0 ? tail : tail.slice(0, q)) || '/';
  const query = q < 0 ? '' : tail.slice(q + 1);
  if (/[\s\0]/.test(path + query)) throw bad(uri);

  const at = authority.lastIndexOf('@');
  const hostPort = at < 0 ? authority : authority.slice(at + 1);
  const out: RtspUrl = {
    secure,
    host: '',
    port: secure ? RTSPS_DEFAULT_PORT : RTSP_DEFAULT_PORT,
    path,
    query,
  };
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    out.username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), uri);
    if (colon >= 0) out.password = decode(userinfo.slice(colon + 1), uri);
  }
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) throw bad(uri);
    out.host = hostPort.slice(1, close);
    if (!isIPv6(out.host)) throw bad(uri);
    const after = hostPort.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw bad(uri);
      portText = after.slice(1);
    }
  } else {
    const colon = hostPort.indexOf(':');
    out.host = colon < 0 ? hostPort : hostPort.slice(0, colon);
    if (colon >= 0) portText = hostPort.slice(colon + 1);
    if (!HOST.test(out.host)) throw bad(uri);
  }
  if (portText !== undefined && portText !== '') {
    if (!/^\d{1,5}$/.test(portText)) throw bad(uri);
    out.port = Number(portText);
    if (out.port < 1 || out.port > 65535) throw bad(uri);
  }
  return out;
}

function decode(s: string, uri: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw bad(uri);
  }
}

function bad(uri: string): Error {
  return rtspError(RtspErrorCode.BadUrl, `bad RTSP URL ${quoteForError(uri)}`);
}

/**
 * A track control our SDP or a camera's may use as the last path segment: trackID=N (ours,
 * live555, lal), streamid=N (ffmpeg's RTSP muxer), track1 / trackN (GStreamer's rtsp-server
 * uses stream=N).
 */
const CONTROL = /^(?:trackid=\d{1,3}|streamid=\d{1,3}|stream=\d{1,3}|track\d{1,3})$/i;

/**
 * Server side: the stream path of a request URI (absolute, or a bare path) with a track
 * control split off, and the query dropped:
 * "rtsp://h:5544/live/cam1/trackID=1" -> { path: 'live/cam1', control: 'trackID=1' }.
 * ffmpeg appends the control after a query ("/live/cam1?token=x/trackID=0"), so a control at
 * the end of the query counts too. ProtocolError 'RTSP_BAD_URL' for other schemes or '*'.
 */
export function splitControl(uri: string): { path: string; control: string | null } {
  let pathAndQuery: string;
  if (uri.startsWith('/')) pathAndQuery = uri;
  else {
    const u = parseRtspUrl(uri);
    pathAndQuery = u.query === '' ? u.path : `${u.path}?${u.query}`;
  }
  const q = pathAndQuery.indexOf('?');
  const path = trimSlashes(q < 0 ? pathAndQuery : pathAndQuery.slice(0, q));
  if (q >= 0) {
    const query = pathAndQuery.slice(q + 1);
    const slash = query.lastIndexOf('/');
    const last = query.slice(slash + 1);
    if (slash >= 0 && CONTROL.test(last)) return { path, control: last };
  }
  const slash = path.lastIndexOf('/');
  const last = path.slice(slash + 1);
  if (CONTROL.test(last)) return { path: slash < 0 ? '' : path.slice(0, slash), control: last };
  return { path, control: null };
}

function trimSlashes(p: string): string {
  return p.replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * Client side: the URL to SETUP a track, from its SDP a=control and the base (Content-Base,
 * else Content-Location, else the DESCRIBE URL; RFC 2326 §C.1.1). An absolute control is used
 * as is, '*' means the base; a relative one is appended after a '/', as ffmpeg, live555 and
 * gortsplib do (not RFC 3986 resolution, which would replace the last segment and break
 * servers that send a base without a trailing slash).
 */
export function resolveControl(base: string, control: string): string {
  const c = control.trim();
  if (/^rtsps?:\/\//i.test(c)) return c;
  if (c === '' || c === '*') return base;
  if (c.startsWith('/')) {
    // Absolute path: keep the base's scheme and authority.
    const m = /^(rtsps?:\/\/[^/?#]*)/i.exec(base);
    return m ? `${m[1]}${c}` : c;
  }
  return base.endsWith('/') ? `${base}${c}` : `${base}/${c}`;
}
