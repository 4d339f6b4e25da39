import type { Socket as DgramSocket } from 'node:dgram';
import { isStreamKey, splitQuery } from '../../../libs/names/stream-key.ts';
import {
  formatTransport,
  parseTransports,
  splitControl,
  type RtspAuthenticator,
  type RtspRequest,
  type RtspTransport,
} from '../../../libs/rtsp/index.ts';
import type { Counters } from '../../../libs/metrics/counters.ts';
import type { Logger } from 'pino';
import type { Reply } from './reply.ts';
import type { UdpPair, UdpPorts } from './udp-ports.ts';

/** Failed credentials on one connection before it is closed (after a last 401). */
const MAX_AUTH_FAILURES = 10;

/**
 * Checks a request's credentials: null when they pass (or none are needed), otherwise a 401 with
 * fresh challenges, never a silent close.
 */
export function checkAuth(
  auth: RtspAuthenticator | null,
  req: RtspRequest,
  state: { authFailures: number },
  counters: Counters,
  log: Logger,
  action: 'publish' | 'play',
): Reply | null {
  if (!auth) return null;
  const verdict = auth.verify(req.method, req.uri, req.headers.get('authorization'));
  if (verdict === 'ok') return null;
  if (verdict === 'denied') {
    state.authFailures++;
    counters.inc('rtsp_auth_failures', 1, { action });
    log.warn({ action, failures: state.authFailures }, 'rtsp credentials refused');
  }
  const headers = auth
    .challenge({ stale: verdict === 'stale' })
    .map((v): [string, string] => ['WWW-Authenticate', v]);
  return state.authFailures >= MAX_AUTH_FAILURES
    ? { status: 401, headers, close: true, closeReason: 'auth-failures' }
    : { status: 401, headers };
}

/** The stream key and query of a request URI (`rtsp://h:5544/app/name?x=y`, a track control after it). */
export function streamOf(
  uri: string,
): { key: string; query: Record<string, string>; control: string | null } | null {
  const { path, control } = splitControl(uri);
  let rest = path;
  const scheme = /^rtsps?:\/\/[^/]*/i.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  const q = uri.indexOf('?');
  const query = q >= 0 ? splitQuery(uri.slice(q).replace(/\/(trackID|streamid)=\d+$/i, '')).query : {};
  let key: string;
  try {
    key = decodeURIComponent(rest.replace(/^\/+|\/+$/g, ''));
  } catch {
    return null;
  }
  return isStreamKey(key) ? { key, query, control } : null;
}

/** Datagrams go to ports 1-65535 only: port 0 cannot be sent to (Node throws). */
const validPort = (p: number): boolean => Number.isInteger(p) && p >= 1 && p <= 65535;

/**
 * The first transport of a SETUP we can serve: TCP interleaved (RTP channel 0-254, so RTCP's is
 * the next one), or unicast UDP with usable client ports when enabled.
 */
export function chooseTransport(req: RtspRequest, udpEnabled: boolean): RtspTransport | null {
  const value = req.headers.get('transport');
  if (value === undefined) return null;
  for (const t of parseTransports(value)) {
    if (t.multicast) continue;
    if (t.protocol === 'tcp') {
      if (t.interleaved && t.interleaved[0] > 254) continue;
      return t;
    }
    if (udpEnabled && t.clientPort && validPort(t.clientPort[0]) && validPort(t.clientPort[1])) return t;
  }
  return null;
}

/** Where the client's datagrams come from and go to: its control connection's address. */
export function peerAddress(remoteAddress: string | undefined): { host: string; family: 'udp4' | 'udp6' } {
  const a = remoteAddress ?? '127.0.0.1';
  if (a.startsWith('::ffff:') && a.includes('.')) return { host: a.slice(7), family: 'udp4' };
  return { host: a, family: a.includes(':') ? 'udp6' : 'udp4' };
}

/** A server port pair for one UDP track, or a 453 when the range is used up. */
export async function udpPairFor(
  ports: UdpPorts,
  family: 'udp4' | 'udp6',
  counters: Counters,
  log: Logger,
): Promise<UdpPair | Reply> {
  const pair = await ports.allocate(family);
  if (pair) return pair;
  counters.inc('rtsp_udp_ports_exhausted');
  log.warn({ inUse: ports.inUse }, 'rtsp udp port range exhausted');
  return { status: 453 };
}

export const isReply = (x: unknown): x is Reply => typeof x === 'object' && x !== null && 'status' in x;

/** The Transport answer for a TCP track on `channel`. */
export function tcpTransportReply(_t: RtspTransport, channel: number, mode?: 'record'): string {
  return formatTransport({
    protocol: 'tcp',
    multicast: false,
    interleaved: [channel, channel + 1],
    ...(mode ? { mode } : {}),
  });
}

/** The Transport answer for a UDP track. */
export function udpTransportReply(t: RtspTransport, pair: UdpPair, mode?: 'record'): string {
  return formatTransport({
    protocol: 'udp',
    multicast: false,
    ...(t.clientPort ? { clientPort: t.clientPort } : {}),
    serverPort: [pair.rtpPort, pair.rtpPort + 1],
    ...(mode ? { mode } : {}),
  });
}

/** Datagrams from anyone but the session's client are dropped (no injection into a stream). */
export function fromPeer(rinfo: { address: string }, host: string): boolean {
  const a = rinfo.address.startsWith('::ffff:') ? rinfo.address.slice(7) : rinfo.address;
  return a === host;
}

export type { DgramSocket };
