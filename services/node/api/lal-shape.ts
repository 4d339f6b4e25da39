import { sluiceVersion } from '../version.ts';

/**
 * lal's HTTP API shapes (pkg/base/t_http_an__.go, t_http_an__api.go): the `{error_code, desp,
 * data}` envelope, its error codes and the group/session field names, shared by the node and
 * the scheduler.
 */

export const LalCode = {
  Succ: 0,
  PageNotFound: 404,
  GroupNotFound: 1001,
  ParamMissing: 1002,
  SessionNotFound: 1003,
  StartRelayPullFail: 2001,
} as const;

export const LalDesp = {
  Succ: 'succ',
  PageNotFound: 'page not found',
  GroupNotFound: 'group not found',
  ParamMissing: 'param missing',
  SessionNotFound: 'session not found',
} as const;

export interface LalEnvelope {
  error_code: number;
  desp: string;
  data?: unknown;
}

export const lalOk = (data?: unknown): LalEnvelope =>
  data === undefined ? { error_code: 0, desp: LalDesp.Succ } : { error_code: 0, desp: LalDesp.Succ, data };

export const lalErr = (code: number, desp: string): LalEnvelope => ({ error_code: code, desp });

export interface LalSession {
  session_id: string;
  protocol: string;
  base_type: string;
  remote_addr: string;
  start_time: string;
  read_bytes_sum: number;
  wrote_bytes_sum: number;
  bitrate_kbits: number;
  read_bitrate_kbits: number;
  write_bitrate_kbits: number;
}

export interface LalGroup {
  stream_name: string;
  app_name: string;
  audio_codec: string;
  video_codec: string;
  video_width: number;
  video_height: number;
  pub: LalSession;
  subs: LalSession[];
  pull: LalSession;
  in_frame_per_sec: { unix_sec: number; v: number }[];
}

/** lal's empty pub/pull: every field present, zero. */
export const emptyLalSession = (baseType: string): LalSession => ({
  session_id: '',
  protocol: '',
  base_type: baseType,
  remote_addr: '',
  start_time: '',
  read_bytes_sum: 0,
  wrote_bytes_sum: 0,
  bitrate_kbits: 0,
  read_bitrate_kbits: 0,
  write_bitrate_kbits: 0,
});

/** lal's protocol names (SessionProtocol*Str) for Sluice's protocol labels. */
export function lalProtocol(protocol: string): string {
  if (protocol.startsWith('rtmp') || protocol === 'relay') return 'RTMP';
  if (protocol.startsWith('rtsp')) return 'RTSP';
  if (protocol.endsWith('-flv') || protocol.startsWith('flv')) return 'FLV';
  if (protocol.endsWith('-ts')) return 'TS';
  if (protocol === 'hls') return 'HLS';
  return protocol.toUpperCase();
}

/** lal's codec names: AAC, H264, H265 (others upper-cased as they are). */
export function lalCodec(c: string | undefined): string {
  if (!c) return '';
  if (c === 'h264') return 'H264';
  if (c === 'h265') return 'H265';
  return c.toUpperCase();
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** lal's time format, local time: `2006-01-02 15:04:05.000`. */
export function lalTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

/** lal's `lal_info` data for this process. */
export function lalInfo(serverId: string, startedAt: number): Record<string, string> {
  return {
    server_id: serverId,
    bin_info: `sluice ${sluiceVersion()}. node ${process.version}.`,
    lal_version: sluiceVersion(),
    api_version: '1.0.0',
    notify_version: '1.0.0',
    WebUiVersion: '',
    start_time: lalTime(startedAt),
  };
}

/** `app/name` split at its last slash (lal's app_name and stream_name). */
export function splitKey(key: string): { app: string; name: string } {
  const i = key.lastIndexOf('/');
  return { app: key.slice(0, i), name: key.slice(i + 1) };
}

export type KeyMatch = { ok: true; key: string } | { ok: false; ambiguous: boolean };

/**
 * The key a lal request means. lal has no apps: `stream_name` alone matches the one key with
 * that name; `app_name` (or a stream_name that is a whole key) picks among several.
 */
export function resolveKey(keys: Iterable<string>, streamName: string, appName?: string): KeyMatch {
  const all = [...keys];
  if (streamName.includes('/'))
    return all.includes(streamName) ? { ok: true, key: streamName } : { ok: false, ambiguous: false };
  if (appName) {
    const key = `${appName}/${streamName}`;
    return all.includes(key) ? { ok: true, key } : { ok: false, ambiguous: false };
  }
  const hits = all.filter((k) => splitKey(k).name === streamName);
  if (hits.length === 1) return { ok: true, key: hits[0]! };
  return { ok: false, ambiguous: hits.length > 1 };
}
