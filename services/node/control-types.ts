/**
 * What the HTTP API (lal's /api/ctrl/*, /api/v1/*) drives on a node besides kicks: relay pulls
 * (lal's start_relay_pull / static_relay_pull) and relay pushes (lal's relay_push, SRS's forward).
 * The API depends on these interfaces only; the relay code implements them.
 */

/** One request to pull a remote stream into a local key (lal's start_relay_pull fields). */
export interface RelayPullRequest {
  /** rtmp://, rtmps://, rtsp://, rtsps://, http(s)://….flv; credentials in the URL are never logged. */
  url: string;
  /** The local stream key `app/name` it feeds. */
  key: string;
  /** lal pull_retry_num: -1 retries for ever, 0 never, n at most n times. */
  retryNum: number;
  /** lal auto_stop_pull_after_no_out_ms: -1 never stops for lack of viewers, 0 at once, n after n ms. */
  autoStopAfterNoViewersMs: number;
  /** One attempt's connect/first-media timeout (lal pull_timeout_ms). */
  timeoutMs: number;
  /** RTSP transport (lal rtsp_mode 0 = tcp, 1 = udp). */
  rtspTransport: 'tcp' | 'udp';
}

export interface RelayInfo {
  /** Server-chosen session id (also the id sessions and kicks use). */
  id: string;
  key: string;
  /** The source or target URL with any password replaced by `***`. */
  url: string;
  /** How it came to be: the config file or the API. */
  origin: 'config' | 'api';
  state: 'connecting' | 'running' | 'backoff' | 'stopped';
  /** Attempts made so far (1 = the first connect). */
  attempts: number;
  startedAt: number;
  lastError: string | null;
}

export type ControlResult<T> =
  | { ok: true; value: T }
  /** `code`: invalid (bad parameters), exists (already pulled/pushed), not_found, busy (key being published), refused (role cannot). */
  | { ok: false; code: 'invalid' | 'exists' | 'not_found' | 'busy' | 'refused'; message: string };

export interface RelayPullControl {
  start(req: RelayPullRequest): Promise<ControlResult<RelayInfo>>;
  /** Stops the pull feeding `key`. */
  stop(key: string): Promise<ControlResult<RelayInfo>>;
  list(): RelayInfo[];
}

/** One request to push a local live stream to another RTMP server. */
export interface RelayPushRequest {
  /** The local key `app/name` to push. */
  key: string;
  /** rtmp:// or rtmps:// target (a CDN ingest, another Sluice). */
  url: string;
}

export interface RelayPushControl {
  start(req: RelayPushRequest): Promise<ControlResult<RelayInfo>>;
  /** Stops a push by its id. */
  stop(id: string): Promise<ControlResult<RelayInfo>>;
  list(): RelayInfo[];
}
