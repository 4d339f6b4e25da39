import { PlayProtocol, type NodeAddresses } from '../../libs/cluster/types.ts';

export { PlayProtocol };

/**
 * Play and publish URLs in lal's forms (DESIGN.md "Defaults"): `rtmp://h/app/name`,
 * `http://h:8080/app/name.flv` (`.ts`, `.m3u8`, `ws://` for WebSocket), `rtsp://h:5544/app/name`.
 *
 * Edges serve rtmp, flv, ws-flv, ts (HTTP and WebSocket), hls and rtsp (on the port the node
 * advertises).
 */

const PROTOCOLS = new Set<string>(Object.values(PlayProtocol));

export function isPlayProtocol(s: string): s is PlayProtocol {
  return PROTOCOLS.has(s);
}

/** File extension of a `/play/<key>.<ext>` redirect -> protocol. `.rtmp` is not a thing: RTMP players cannot follow HTTP redirects. */
export const PLAY_EXTENSIONS: Readonly<Record<string, PlayProtocol>> = {
  flv: PlayProtocol.Flv,
  ts: PlayProtocol.Ts,
  m3u8: PlayProtocol.Hls,
};

/** The host part of `host:port` / `[v6]:port`, brackets kept so it can go back into a URL. */
export function hostOf(address: string): string {
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}

/** The URL a viewer plays `key` with from a node with these public addresses; null when the node does not serve it. */
export function playUrl(protocol: PlayProtocol, addrs: NodeAddresses, key: string): string | null {
  switch (protocol) {
    case PlayProtocol.Rtmp:
      return addrs.rtmp ? `rtmp://${addrs.rtmp}/${key}` : null;
    case PlayProtocol.Flv:
      return addrs.http ? `http://${addrs.http}/${key}.flv` : null;
    case PlayProtocol.WsFlv:
      return addrs.http ? `ws://${addrs.http}/${key}.flv` : null;
    case PlayProtocol.Ts:
      return addrs.http ? `http://${addrs.http}/${key}.ts` : null;
    case PlayProtocol.Hls:
      return addrs.http ? `http://${addrs.http}/${key}.m3u8` : null;
    case PlayProtocol.Rtsp:
      // Only nodes that advertise an RTSP listener serve it (no guessed port).
      return addrs.rtsp ? `rtsp://${addrs.rtsp}/${key}` : null;
  }
}

/** Where a publisher sends `key`: the node's public RTMP address. */
export function publishUrl(addrs: NodeAddresses, key: string): string | null {
  return addrs.rtmp ? `rtmp://${addrs.rtmp}/${key}` : null;
}

export interface OwnerUrls {
  rtmp?: string;
  flv?: string;
  'ws-flv'?: string;
  /** What edges relay-pull from (internal address). */
  internalRtmp?: string;
}

/** Direct play URLs on a stream's owner (for operators and debugging; viewers should use edges). */
export function ownerUrls(pub: NodeAddresses, internal: NodeAddresses, key: string): OwnerUrls {
  const out: OwnerUrls = {};
  const rtmp = playUrl(PlayProtocol.Rtmp, pub, key);
  const flv = playUrl(PlayProtocol.Flv, pub, key);
  const ws = playUrl(PlayProtocol.WsFlv, pub, key);
  const internalRtmp = playUrl(PlayProtocol.Rtmp, internal, key);
  if (rtmp) out.rtmp = rtmp;
  if (flv) out.flv = flv;
  if (ws) out['ws-flv'] = ws;
  if (internalRtmp) out.internalRtmp = internalRtmp;
  return out;
}
