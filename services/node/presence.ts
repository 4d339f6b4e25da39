import { PlayProtocol, type NodeAddresses, type NodeStreamInfo } from '../../libs/cluster/types.ts';
import type { StreamHub } from '../../libs/stream/index.ts';
import type { ListeningAddresses } from './media-node.ts';

/** The node's streams for its registry record. On an edge a stream's publisher is its relay. */
export function streamPresence(hub: StreamHub, publisherIsRelay: boolean): Record<string, NodeStreamInfo> {
  const out: Record<string, NodeStreamInfo> = {};
  for (const s of hub.list()) {
    const live = s.publisher !== null;
    out[s.key] = {
      viewers: s.subscribers,
      relaying: publisherIsRelay && live,
      publishing: !publisherIsRelay && live,
    };
  }
  return out;
}

/** Internal and public addresses from the bound ports and the advertised hosts. */
export function nodeAddresses(
  listening: ListeningAddresses,
  hosts: { internal: string; public: string },
): { internal: NodeAddresses; public: NodeAddresses } {
  const on = (host: string): NodeAddresses => {
    const a: NodeAddresses = {};
    const rtmp = portOf(listening.rtmp);
    const http = portOf(listening.http);
    const api = portOf(listening.api);
    const rtsp = portOf(listening.rtsp);
    if (rtmp !== undefined) a.rtmp = `${host}:${rtmp}`;
    if (http !== undefined) a.http = `${host}:${http}`;
    if (api !== undefined) a.api = `${host}:${api}`;
    if (rtsp !== undefined) a.rtsp = `${host}:${rtsp}`;
    return a;
  };
  return { internal: on(hosts.internal), public: on(hosts.public) };
}

/** The port of a `host:port` listening address. */
function portOf(address: string | undefined): number | undefined {
  if (!address) return undefined;
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** What viewers can play from a node with these listeners (the scheduler offers nothing else). */
export function servedProtocols(listening: ListeningAddresses, opts: { hls: boolean }): PlayProtocol[] {
  const out: PlayProtocol[] = [];
  if (listening.rtmp) out.push(PlayProtocol.Rtmp);
  // `ts` covers HTTP-TS and WebSocket-TS (one address, one path).
  if (listening.http) out.push(PlayProtocol.Flv, PlayProtocol.WsFlv, PlayProtocol.Ts);
  if (listening.http && opts.hls) out.push(PlayProtocol.Hls);
  if (listening.rtsp) out.push(PlayProtocol.Rtsp);
  return out;
}
