/**
 * Every counter Sluice bumps through `Counters`: its HELP text and label names. The exposed name
 * is `sluice_<name>_total`. A name missing here still works (generic HELP, labels of its first
 * use) but a unit test keeps the catalog complete.
 */
export interface CounterSpec {
  readonly help: string;
  readonly labels: readonly string[];
}

const c = (help: string, ...labels: string[]): CounterSpec => ({ help, labels });

export const COUNTERS: Readonly<Record<string, CounterSpec>> = {
  // Media sessions
  connections_accepted: c('Media connections accepted, by protocol.', 'proto'),
  connections_refused_limit: c('Media connections refused over limits.maxConnections, by protocol.', 'proto'),
  sessions_refused_draining: c(
    'New publishes and plays refused while the node drains, by protocol.',
    'proto',
  ),
  publish_started: c('Publish sessions started.'),
  publish_refused: c('Publishes refused, by reason.', 'reason'),
  publish_bad_frames: c('Publisher frames rejected as malformed, by error code.', 'code'),
  play_started: c('Play sessions started, by protocol.', 'proto'),
  play_refused: c('Plays refused, by protocol.', 'proto'),
  auth_allowed: c(
    'Publishes and plays the auth checks let through, by protocol and action.',
    'proto',
    'action',
  ),
  auth_refused: c(
    'Publishes and plays refused by auth, by protocol, action and the check that refused (ip, lal, signed, callback).',
    'proto',
    'action',
    'mode',
  ),
  auth_callbacks: c(
    'Auth callbacks answered, by action (on_publish, on_play) and result (allow, deny).',
    'action',
    'result',
  ),
  auth_callback_failures: c(
    'Auth callbacks that failed (timeout, error, status: 5xx), then decided by auth.callback.failOpen.',
    'reason',
  ),
  auth_callback_cache_hits: c('Auth callback answers reused from the cache (auth.callback.cacheMs).'),
  hls_segments_refused: c('HLS segment requests refused for want of an authorized session (auth on HLS).'),
  relay_pulls_started: c('Relay pulls (edges pulling from this origin) started.', 'proto'),
  viewer_dropped_frames: c('Frames not sent to viewers over their byte budget.'),
  viewer_drop_events: c(
    'Times a viewer went over its byte budget and started dropping to the next key frame.',
  ),
  viewer_stalled_disconnects: c(
    'Viewers disconnected because their queue did not drain for viewer.stallTimeoutMs.',
  ),
  viewer_not_found: c('Viewers ended because no publisher came within stream.waitPublisherMs.'),
  viewer_unpublished: c('Viewers ended because their stream was unpublished.'),
  stream_tap_failures: c(
    'Stream outputs (HLS, recording) that threw and were stopped for their stream: a bug, see the error log.',
  ),
  // HLS
  hls_sessions_timed_out: c(
    'HLS sessions ended because the player stopped fetching its playlist (hls.sessionTimeoutMs).',
  ),
  hls_segments: c('HLS segments completed (all streams).'),
  hls_segments_served: c('HLS segment requests answered with a segment.'),
  hls_sessions_refused: c(
    'HLS sessions refused over hls.maxSessions (node-full) or hls.maxSessionsPerClient (client-full).',
    'reason',
  ),
  hls_marks_renumbered: c(
    'Owner timelines whose segment numbers did not follow ours (a clock went back): renumbered on this node.',
  ),
  hls_marks_ignored: c(
    'Segment marks from a stream owner ignored (not after the last segment: a relay restarted mid-segment).',
  ),
  hls_store_errors: c(
    'HLS store operations that failed, by operation and error code (ENOSPC, EACCES, ...).',
    'op',
    'code',
  ),
  protocol_errors: c(
    'Sessions or requests ended by bad network input, by protocol and stable error code.',
    'proto',
    'code',
  ),
  tls_handshake_failures: c(
    'RTMPS, RTSPS and HTTPS connections closed because their TLS handshake failed, by protocol and reason (plain_http, not_tls, timeout, handshake).',
    'proto',
    'reason',
  ),
  // RTSP
  rtsp_timeouts: c(
    'RTSP connections closed for silence: idle (no session), play or record (past the session timeout).',
    'kind',
  ),
  rtsp_auth_failures: c('RTSP requests whose credentials were refused (answered 401), by action.', 'action'),
  rtsp_udp_ports_exhausted: c('RTSP SETUPs over UDP refused because rtsp.udp ports were all in use.'),
  rtsp_udp_dropped_packets: c(
    'RTP/RTCP datagrams to RTSP players over UDP dropped because the socket buffer was full.',
  ),
  rtsp_udp_foreign_packets: c(
    "Datagrams on a session's UDP ports from another address than its client (dropped).",
  ),
  rtsp_bad_packets: c('Malformed RTP/RTCP packets from RTSP publishers (skipped), by error code.', 'code'),
  rtsp_rtp_packets_lost: c('RTP packets of RTSP publishers that never arrived (sequence gaps).'),
  rtsp_frames_dropped_after_loss: c(
    'Frames of RTSP publishers dropped after a loss: the incomplete one and video up to the next key frame.',
  ),
  http_method_not_allowed: c('Media HTTP requests refused with 405.'),
  http_not_found: c('Media HTTP requests answered 404.'),
  api_method_not_allowed: c('API requests refused with 405.'),
  api_not_found: c('API requests answered 404.'),
  api_auth_refused: c(
    'API requests refused by the token rules, by reason (missing, wrong, not_loopback).',
    'reason',
  ),
  api_bad_requests: c('API requests refused as malformed (bad JSON, too large), by reason.', 'reason'),
  api_kicks: c('Sessions ended through the API.'),
  // Recording
  record_files: c('Recording files opened, by format (flv, ts).', 'format'),
  record_errors: c(
    'Recording failures (each ends its file), by format and error code (ENOSPC, EACCES, ...).',
    'format',
    'code',
  ),
  record_dropped_frames: c(
    'Frames left out of recordings because the disk did not keep up (record.maxQueueBytes), by format.',
    'format',
  ),
  // Cluster: ownership
  claims_refused: c('Publishes refused because another origin owns the stream.'),
  claims_taken_over: c('Claims taken over from an owner that is gone.'),
  claims_refused_registry_down: c('Publishes refused because the registry was unreachable.'),
  claims_deferred: c('Claims deferred until the registry answers.'),
  ownership_fenced: c('Times this origin fenced itself (kicked its publisher), by reason.', 'reason'),
  ownership_orphans_forgotten: c('Orphaned claims forgotten after the registry outage ended.'),
  node_id_conflicts: c('Another live process was found registered with this node id.'),
  // RTSP pulls (rtsp.pulls: sources pulled into streams)
  rtsp_pull_connects: c('RTSP pulls that reached PLAY (a source connected or reconnected).'),
  rtsp_pull_failures: c(
    'RTSP pull attempts or sessions that failed, by error code (RTSP_AUTH_FAILED, RTSP_READ_TIMEOUT...).',
    'code',
  ),
  // Relay pulls and pushes (relay.pulls, relay.pushes, rtsp.pulls, the API)
  source_pulls_started: c('Relay pulls of remote sources started, by origin (config, api).', 'origin'),
  source_pull_connects: c('Relay pull attempts that reached playing, by protocol.', 'proto'),
  source_pull_failures: c(
    'Relay pull attempts or sessions that failed, by protocol and error code.',
    'proto',
    'code',
  ),
  source_pulls_given_up: c(
    'Relay pulls that stopped after their retries (retryNum) ran out, by protocol.',
    'proto',
  ),
  source_pulls_auto_stopped: c('Relay pulls stopped for lack of viewers (autoStopAfterNoViewersMs).'),
  source_pull_bad_frames: c(
    'Malformed frames from RTMP and FLV pull sources, skipped, by error code.',
    'code',
  ),
  relay_pushes_started: c('Relay pushes started, by origin (config, api).', 'origin'),
  relay_pushes_refused: c('Relay pushes refused over the push cap.'),
  relay_push_connects: c('Relay pushes that reached publishing on their target.'),
  relay_push_failures: c('Relay push attempts or sessions that failed, by error code.', 'code'),
  // Cluster: relays
  relays_started: c('Edge relays (pulls from an origin) started.'),
  relays_failed: c(
    'Relay pull attempts that failed before media flowed (no owner address, connect or play failed).',
  ),
  relays_given_up: c('Relays abandoned (no owner within the wait, or retries exhausted).'),
  relays_refused_cap: c('Relays refused over the relay cap.'),
  relay_reconnects: c('Relay reconnections after a relay ended.'),
  relay_receive_timeouts: c('Relays ended because the origin sent nothing for too long.'),
  relay_owner_moved: c('Relays that followed a new stream owner.'),
  relay_events_ignored: c('Owner events a relay ignored, by reason.', 'reason'),
  // Cluster: registry and bus
  registry_op_errors: c('Registry (Redis) operations that failed, by operation.', 'op'),
  bus_op_errors: c('Event bus (NATS) operations that failed, by operation.', 'op'),
  events_invalid: c('Bus events that failed schema validation, by subject.', 'subject'),
  events_handler_errors: c('Bus event handlers that threw, by subject.', 'subject'),
  events_dropped: c('Bus events dropped (queue full or bus closed), by subject.', 'subject'),
  nats_connect_errors: c('NATS connection attempts that failed, by reason.', 'reason'),
  nats_disconnects: c('NATS disconnections.'),
  nats_server_errors: c('Errors reported by the NATS server, by code.', 'code'),
  // Webhooks
  webhook_sent: c('Webhooks delivered (2xx), by event.', 'event'),
  webhook_retries: c('Webhook attempts that failed and will be retried, by event.', 'event'),
  webhook_failed: c(
    'Webhooks given up: rejected (a 4xx other than 429: not retried) or retries_exhausted, by event.',
    'event',
    'reason',
  ),
  webhook_dropped: c(
    'Webhooks never sent: queue_full (webhooks.queueSize) or closed, by event.',
    'event',
    'reason',
  ),
  // Per-stream series
  stream_series_omitted: c(
    'Scrapes at which streams were left without per-stream series (over metrics.perStream.maxStreams), summed over streams.',
  ),
  // Scheduler
  scheduler_requests: c('Scheduler HTTP requests, by endpoint and status.', 'endpoint', 'status'),
  scheduler_routes: c('Route decisions (play and publish), by kind and outcome.', 'kind', 'outcome'),
  scheduler_events: c('Bus events the scheduler applied, by subject.', 'subject'),
  scheduler_events_ignored: c('Bus events the scheduler ignored, by subject and why.', 'subject', 'why'),
  scheduler_reconciles: c(
    'Reconciliations of the view with the registry, by result and kind.',
    'result',
    'kind',
  ),
  scheduler_registry_errors: c('Scheduler registry reads that failed.'),
  scheduler_records_invalid: c('Registry records the scheduler could not parse.'),
  scheduler_reads_failed: c('Queued registry reads that failed, by queue.', 'queue'),
  scheduler_reads_dropped: c('Queued registry reads dropped over the queue bound, by queue.', 'queue'),
  scheduler_presence_ignored: c('Presence reports ignored, by why.', 'why'),
  scheduler_presence_gaps: c('Presence sequence gaps (a full presence fetch follows).'),
  scheduler_nodes_unconfirmed: c('Heartbeats from nodes not yet confirmed in the registry.'),
  scheduler_node_instance_changes: c('Nodes seen restarting under the same id (new instance).'),
  scheduler_view_over_limit: c('Items left out of the view over its size limits, by what.', 'what'),
  scheduler_internal_errors: c('Scheduler requests that failed with an internal error.'),
  scheduler_control_requests: c(
    'Control requests the scheduler forwarded to a node (kick, relay pulls), by op and outcome (ok, refused, unreachable).',
    'op',
    'outcome',
  ),
};
