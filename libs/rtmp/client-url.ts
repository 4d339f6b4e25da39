import { ProtocolError } from '../errors/protocol-error.ts';

/** IANA port for RTMP. */
export const DEFAULT_RTMP_PORT = 1935;
/** RTMPS without a port: 443, as ffmpeg and CDN ingests use. */
export const DEFAULT_RTMPS_PORT = 443;

export interface RtmpUrl {
  host: string;
  port: number;
  /** Path segments before the last one, without leading/trailing slashes or query. */
  app: string;
  /** The last path segment plus the URL's `?query`, as sent in publish/play. */
  streamName: string;
  /** `?query` of the URL (with the `?`), or ''. */
  query: string;
  /** `rtmp://host:port/app`, as the connect command's tcUrl. */
  tcUrl: string;
  /** rtmps: RTMP in TLS. */
  secure: boolean;
}

/**
 * Splits `rtmp[s]://host[:port]/app[/more]/name[?query]`: the last segment is the stream
 * name, everything before it the app (multi-segment apps are allowed, unlike ffmpeg's
 * one-or-two-segment guess). Throws ProtocolError('RTMP_BAD_URL') on anything else.
 */
export function parseRtmpUrl(url: string): RtmpUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new ProtocolError('RTMP_BAD_URL', `not a URL: ${url}`, { cause: e });
  }
  if (u.protocol !== 'rtmp:' && u.protocol !== 'rtmps:')
    throw new ProtocolError('RTMP_BAD_URL', `unsupported scheme ${u.protocol} (only rtmp: and rtmps:)`);
  const secure = u.protocol === 'rtmps:';
  // WHATWG keeps the brackets of an IPv6 literal in hostname; net.connect wants them off.
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new ProtocolError('RTMP_BAD_URL', 'RTMP URL has no host');
  const port = u.port === '' ? (secure ? DEFAULT_RTMPS_PORT : DEFAULT_RTMP_PORT) : Number(u.port);
  const segments = u.pathname.split('/').filter((s) => s !== '');
  if (segments.length < 2) {
    throw new ProtocolError('RTMP_BAD_URL', 'RTMP URL path must be /app/name');
  }
  const name = segments.pop()!;
  const app = segments.join('/');
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    app,
    streamName: name + u.search,
    query: u.search,
    tcUrl: `${secure ? 'rtmps' : 'rtmp'}://${hostPart}:${port}/${app}`,
    secure,
  };
}
