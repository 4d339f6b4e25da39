import { isStreamKey } from '../../../libs/names/stream-key.ts';
import type { ControlResult, RelayPullRequest } from '../control-types.ts';

/** lal's defaults when a field is absent (pkg/logic/http_api.go). */
export const LAL_PULL_DEFAULTS = {
  /** lal's DefaultApiCtrlStartRelayPullReqPullTimeoutMs. */
  pullTimeoutMs: 10000,
  pullRetryNum: 0,
  autoStopPullAfterNoOutMs: -1,
  rtspMode: 0,
} as const;

/** Where a stream_name without an app lands (lal has no apps; Sluice keys are app/name). */
export const DEFAULT_APP = 'live';

export type Mapped = { ok: true; req: RelayPullRequest } | { ok: false; missing: boolean; message: string };

const intOr = (v: unknown, dflt: number): number | null =>
  v === undefined ? dflt : typeof v === 'number' && Number.isInteger(v) ? v : null;

/**
 * The local key of a lal stream_name: `app/name` as given, or name plus app_name, or the app
 * of the source URL's path (`rtmp://h/app/name`), else `live`.
 */
export function keyFor(streamName: string, appName: string | undefined, url: string): string {
  if (streamName.includes('/')) return streamName;
  if (appName) return `${appName}/${streamName}`;
  let segments: string[] = [];
  try {
    segments = new URL(url).pathname.split('/').filter((s) => s !== '');
  } catch {
    // not a URL: the default app
  }
  const app = segments.length >= 2 ? segments[segments.length - 2]! : DEFAULT_APP;
  return `${app}/${streamName}`;
}

/** The last path item of a URL without its extension (lal's LastItemOfPath, for a missing stream_name). */
function nameOfUrl(url: string): string {
  try {
    const last =
      new URL(url).pathname
        .split('/')
        .filter((s) => s !== '')
        .pop() ?? '';
    return last.replace(/\.(flv|m3u8|ts)$/i, '');
  } catch {
    return '';
  }
}

/** A lal start_relay_pull body (ApiCtrlStartRelayPullReq, plus app_name) as a RelayPullRequest. */
export function relayPullFromLal(body: Record<string, unknown>): Mapped {
  const url = body.url;
  if (typeof url !== 'string' || url === '') return { ok: false, missing: true, message: 'url is required' };
  if (!/^(rtmps?|rtsps?|https?):\/\//i.test(url)) {
    return { ok: false, missing: false, message: 'url must be rtmp(s)://, rtsp(s):// or http(s)://' };
  }
  const given = body.stream_name;
  if (given !== undefined && typeof given !== 'string') {
    return { ok: false, missing: false, message: 'stream_name must be a string' };
  }
  const name = given || nameOfUrl(url);
  const app = typeof body.app_name === 'string' && body.app_name !== '' ? body.app_name : undefined;
  const key = keyFor(name, app, url);
  if (!name || !isStreamKey(key))
    return { ok: false, missing: false, message: `invalid stream key ${JSON.stringify(key)}` };
  const timeoutMs = intOr(body.pull_timeout_ms, LAL_PULL_DEFAULTS.pullTimeoutMs);
  const retryNum = intOr(body.pull_retry_num, LAL_PULL_DEFAULTS.pullRetryNum);
  const autoStop = intOr(body.auto_stop_pull_after_no_out_ms, LAL_PULL_DEFAULTS.autoStopPullAfterNoOutMs);
  const rtspMode = intOr(body.rtsp_mode, LAL_PULL_DEFAULTS.rtspMode);
  if (timeoutMs === null || timeoutMs < 0) return bad('pull_timeout_ms must be 0 or a positive integer');
  if (retryNum === null || retryNum < -1) return bad('pull_retry_num must be -1, 0 or a positive integer');
  if (autoStop === null || autoStop < -1) return bad('auto_stop_pull_after_no_out_ms must be -1, 0 or more');
  if (rtspMode !== 0 && rtspMode !== 1) return bad('rtsp_mode must be 0 (tcp) or 1 (udp)');
  return {
    ok: true,
    req: {
      url,
      key,
      retryNum,
      autoStopAfterNoViewersMs: autoStop,
      // 0 is what Go clients send for "not set" (lal's own dispatch demo does): the default, not
      // an attempt that can hang for ever.
      timeoutMs: timeoutMs === 0 ? LAL_PULL_DEFAULTS.pullTimeoutMs : timeoutMs,
      rtspTransport: rtspMode === 1 ? 'udp' : 'tcp',
    },
  };
}

const bad = (message: string): Mapped => ({ ok: false, missing: false, message });

/** The /api/v1 body (camelCase, the RelayPullRequest's own names) as a RelayPullRequest. */
export function relayPullFromV1(body: Record<string, unknown>): Mapped {
  const { url, key } = body;
  if (typeof url !== 'string' || url === '') return { ok: false, missing: true, message: 'url is required' };
  if (typeof key !== 'string' || !isStreamKey(key))
    return { ok: false, missing: key === undefined, message: 'key (app/name) is required' };
  return relayPullFromLal({
    url,
    stream_name: key,
    pull_timeout_ms: body.timeoutMs,
    pull_retry_num: body.retryNum,
    auto_stop_pull_after_no_out_ms: body.autoStopAfterNoViewersMs,
    rtsp_mode:
      body.rtspTransport === undefined
        ? undefined
        : body.rtspTransport === 'udp'
          ? 1
          : body.rtspTransport === 'tcp'
            ? 0
            : -1,
  });
}

/** HTTP status of a refused control call, by its code. */
export function statusOfControl(r: Extract<ControlResult<unknown>, { ok: false }>): number {
  switch (r.code) {
    case 'invalid':
      return 400;
    case 'not_found':
      return 404;
    case 'exists':
    case 'busy':
      return 409;
    case 'refused':
      return 403;
  }
}
