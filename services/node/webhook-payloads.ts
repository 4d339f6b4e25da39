import type { SessionKind, StreamMediaInfo } from '../../libs/cluster/types.ts';
import type { StreamSummary } from '../../libs/stream/hub.ts';
import type { HlsSegmentInfo, RelayPullEnd, RelayPullInfo, RtmpConnectInfo } from './hooks.ts';
import { isPullProtocol } from './relay/source.ts';
import type { WebhookEvent } from './webhook-config.ts';

/**
 * lal's http_notify payloads (field names as lal sends them: server_id, session_id, app_name,
 * stream_name, remote_addr...) built from Sluice's session facts, plus Sluice's own: `hook`,
 * `node_id`, `app` (lal's app_name), `key` and `epoch` where known. Pure functions: the node and
 * the scheduler build the same bodies.
 */

/** A session as both a node (SessionInfo/SessionEnd) and the bus (session events) describe it. */
export interface SessionFacts {
  sessionId: string;
  kind: SessionKind;
  protocol: string;
  key: string;
  remote: string;
  bytesIn?: number;
  bytesOut?: number;
  durationMs?: number;
  reason?: string;
  epoch?: number;
}

/** Which lal event a session start or stop is: RTSP pulls are relay pulls, relays served are subs. */
export function sessionEvent(kind: SessionKind, protocol: string, phase: 'start' | 'stop'): WebhookEvent {
  if (kind === 'publisher') {
    if (isPullProtocol(protocol)) return phase === 'start' ? 'on_relay_pull_start' : 'on_relay_pull_stop';
    return phase === 'start' ? 'on_pub_start' : 'on_pub_stop';
  }
  return phase === 'start' ? 'on_sub_start' : 'on_sub_stop';
}

/** lal's protocol names (RTMP, RTSP, FLV, TS, HLS); Sluice's own label stays in `sluice_protocol`. */
export function lalProtocol(protocol: string): string {
  if (protocol.startsWith('rtmp')) return 'RTMP';
  if (protocol.startsWith('rtsp')) return 'RTSP';
  if (protocol.endsWith('-flv')) return 'FLV';
  if (protocol.endsWith('-ts')) return 'TS';
  if (protocol === 'hls') return 'HLS';
  return protocol.toUpperCase();
}

function baseType(kind: SessionKind, protocol: string): string {
  if (kind === 'publisher') return isPullProtocol(protocol) ? 'PULL' : 'PUB';
  return 'SUB';
}

export function splitKey(key: string): { app: string; name: string } {
  const slash = key.lastIndexOf('/');
  return { app: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * Every body names its event in `hook` (also the X-Sluice-Event header): lal's own bodies have no
 * such field, and lal's `event` field means something else (on_hls_make_ts: open or close).
 */
function common(
  hook: WebhookEvent,
  nodeId: string,
  ts = Date.now(),
): { hook: WebhookEvent; server_id: string; node_id: string; ts: number } {
  return { hook, server_id: nodeId, node_id: nodeId, ts };
}

/** What the sender knows of the session's stream (the node: its hub; the scheduler: nothing). */
export interface StreamSides {
  hasIn: boolean;
  hasOut: boolean;
}

/** `ts`: when it happened (ms since epoch, the sender's clock; the event's own on the scheduler). */
export function sessionPayload(
  event: WebhookEvent,
  nodeId: string,
  s: SessionFacts,
  sides?: StreamSides,
  ts?: number,
): Record<string, unknown> {
  const { app, name } = splitKey(s.key);
  return {
    ...common(event, nodeId, ts),
    session_id: s.sessionId,
    protocol: lalProtocol(s.protocol),
    sluice_protocol: s.protocol,
    base_type: baseType(s.kind, s.protocol),
    kind: s.kind,
    remote_addr: s.remote,
    url: '',
    app_name: app,
    app,
    stream_name: name,
    key: s.key,
    url_param: '',
    ...(sides ? { has_in_session: sides.hasIn, has_out_session: sides.hasOut } : {}),
    read_bytes_sum: s.bytesIn ?? 0,
    wrote_bytes_sum: s.bytesOut ?? 0,
    ...(s.epoch !== undefined ? { epoch: s.epoch } : {}),
    ...(s.durationMs !== undefined ? { duration_ms: s.durationMs } : {}),
    ...(s.reason !== undefined ? { reason: s.reason } : {}),
  };
}

/** on_relay_pull_start / _stop for a pull that is not a session of ours (an edge's relay). */
export function relayPullPayload(
  event: WebhookEvent,
  nodeId: string,
  r: RelayPullInfo | RelayPullEnd,
  ts?: number,
): Record<string, unknown> {
  const { app, name } = splitKey(r.key);
  return {
    ...common(event, nodeId, ts),
    session_id: r.sessionId,
    protocol: lalProtocol(r.protocol),
    sluice_protocol: r.protocol,
    base_type: 'PULL',
    remote_addr: '',
    url: r.url,
    app_name: app,
    app,
    stream_name: name,
    key: r.key,
    url_param: '',
    has_in_session: event === 'on_relay_pull_start',
    ...(r.fromNodeId !== undefined ? { from_node_id: r.fromNodeId } : {}),
    ...(r.epoch !== undefined ? { epoch: r.epoch } : {}),
    ...('reason' in r ? { reason: r.reason } : {}),
  };
}

export function rtmpConnectPayload(nodeId: string, c: RtmpConnectInfo): Record<string, unknown> {
  return {
    ...common('on_rtmp_connect', nodeId),
    session_id: c.sessionId,
    remote_addr: c.remote,
    app: c.app,
    flashVer: c.flashVer,
    tcUrl: c.tcUrl,
    sluice_protocol: c.protocol,
  };
}

/** lal: event open|close, id = sequence number, duration in seconds (0 on open). */
export function hlsMakeTsPayload(nodeId: string, s: HlsSegmentInfo, cwd: string): Record<string, unknown> {
  const { app, name } = splitKey(s.key);
  return {
    ...common('on_hls_make_ts', nodeId),
    event: s.phase,
    app,
    app_name: app,
    stream_name: name,
    key: s.key,
    cwd,
    ts_file: s.file,
    live_m3u8_file: s.playlist,
    record_m3u8_file: '',
    id: s.seq,
    duration: s.durationMs / 1000,
  };
}

export function serverStartPayload(
  nodeId: string,
  version: string,
  role: string,
  startedAt: Date,
): Record<string, unknown> {
  return {
    ...common('on_server_start', nodeId),
    bin_info: `sluice ${version} ${role} node ${process.version}`,
    lal_version: version,
    sluice_version: version,
    role,
    api_version: 'sluice-v1',
    notify_version: 'sluice-v1',
    start_time: startedAt.toISOString(),
  };
}

/** A session as the node tracks it for on_update. */
export interface TrackedSession extends SessionFacts {
  startedAt: number;
}

function statSession(s: TrackedSession | undefined, bytes: { read: number; wrote: number }): object {
  if (!s) return {};
  return {
    session_id: s.sessionId,
    protocol: lalProtocol(s.protocol),
    base_type: baseType(s.kind, s.protocol),
    remote_addr: s.remote,
    start_time: new Date(s.startedAt).toISOString(),
    read_bytes_sum: bytes.read,
    wrote_bytes_sum: bytes.wrote,
  };
}

/** on_update: lal's groups (one per stream) from the hub and the sessions the node tracks. */
export function updatePayload(
  nodeId: string,
  streams: StreamSummary[],
  sessions: ReadonlyMap<string, TrackedSession>,
  media: ReadonlyMap<string, StreamMediaInfo>,
): Record<string, unknown> {
  const groups = streams.map((st) => {
    const { app, name } = splitKey(st.key);
    const m = media.get(st.key) ?? {};
    const pubSession = st.publisher ? sessions.get(st.publisher.id) : undefined;
    const isPull =
      (pubSession !== undefined && isPullProtocol(pubSession.protocol)) ||
      (st.publisher?.id.startsWith('relay:') ?? false);
    const pub = statSession(pubSession, { read: st.bytesIn, wrote: 0 });
    return {
      stream_name: name,
      app_name: app,
      key: st.key,
      // lal's names: H264, H265, AAC.
      audio_codec: (m.audioCodec ?? '').toUpperCase(),
      video_codec: (m.videoCodec ?? '').toUpperCase(),
      video_width: m.width ?? 0,
      video_height: m.height ?? 0,
      pub: isPull ? {} : pub,
      subs: st.viewers.map((v) => statSession(sessions.get(v.id), { read: 0, wrote: v.bytesSent })),
      pull: isPull ? pub : {},
    };
  });
  return { ...common('on_update', nodeId), groups };
}
