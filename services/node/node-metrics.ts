import type { Metrics } from '../../libs/metrics/metrics.ts';
import type { StreamHub } from '../../libs/stream/index.ts';
import type { ConnectionLimiter } from './connection-limiter.ts';

export interface PerStreamMetricsConfig {
  /** Series per stream (`stream` label); off by default: the label set grows with streams. */
  enabled: boolean;
  /** Streams with series at most; beyond it (by key order) streams get none and are counted. */
  maxStreams: number;
}

export interface NodeMetricSources {
  hub: StreamHub;
  limiter: ConnectionLimiter;
  input: { readonly bufferedBytes: number; readonly budgetBytes: number };
  sessions: () => { publisher: number; player: number; relay: number };
  state: () => { ready: boolean; draining: boolean };
  perStream: PerStreamMetricsConfig;
  /** TLS listeners that are on: their protocols get series (0) too. */
  tls?: { rtmps: boolean; https: boolean };
}

/** Every protocol a viewer can use, so each has a series (0) before its first viewer. */
const VIEWER_PROTOCOLS = ['rtmp', 'http-flv', 'ws-flv', 'http-ts', 'ws-ts', 'hls'] as const;
const CONNECTION_PROTOCOLS = ['rtmp', 'http', 'ws'] as const;

/**
 * The media node's gauges and byte counters, all read at scrape time from the hub, the
 * connection limiter and the input budget: nothing here runs per frame.
 */
export function registerNodeMetrics(m: Metrics, s: NodeMetricSources): void {
  const { hub } = s;
  const viewerProtocols: string[] = [...VIEWER_PROTOCOLS];
  const connectionProtocols: string[] = [...CONNECTION_PROTOCOLS];
  if (s.tls?.rtmps) {
    viewerProtocols.push('rtmps');
    connectionProtocols.push('rtmps');
  }
  if (s.tls?.https) {
    viewerProtocols.push('https-flv', 'wss-flv', 'https-ts', 'wss-ts');
    connectionProtocols.push('https', 'wss');
  }
  m.gauge('sluice_streams', 'Streams on this node (with a publisher or waiting viewers).', (set) =>
    set(hub.size),
  );
  m.gauge('sluice_publishers', 'Streams with a live source (a publisher, or a relay on edges).', (set) => {
    let n = 0;
    for (const st of hub.all()) if (st.hasPublisher) n++;
    set(n);
  });
  m.gauge(
    'sluice_viewers',
    'Viewers by protocol (relay = edges pulling from this origin).',
    (set) => {
      const by = new Map<string, number>(viewerProtocols.map((p) => [p, 0]));
      for (const st of hub.all())
        for (const sub of st.subscribers) {
          const p = sub.sink.protocol ?? sub.sink.format.name;
          by.set(p, (by.get(p) ?? 0) + 1);
        }
      for (const [protocol, n] of by) set(n, { protocol });
    },
    ['protocol'],
  );
  m.gauge(
    'sluice_connections',
    'Open media connections by protocol (what limits.maxConnections counts).',
    (set) => {
      const by = new Map<string, number>(connectionProtocols.map((p) => [p, 0]));
      for (const [p, n] of s.limiter.byProtocol) by.set(p, n);
      for (const [protocol, n] of by) set(n, { protocol });
    },
    ['protocol'],
  );
  m.gauge(
    'sluice_sessions',
    'Sessions by kind as heartbeats report them (publisher, player, relay).',
    (set) => {
      for (const [kind, n] of Object.entries(s.sessions())) set(n, { kind });
    },
    ['kind'],
  );
  m.counterOf(
    'sluice_received_bytes_total',
    'Media payload bytes received from publishers and relays.',
    (set) => set(hub.totals.bytesIn),
  );
  m.counterOf(
    'sluice_sent_bytes_total',
    'Media bytes sent to viewers, by protocol (wire bytes the stream wrote).',
    (set) => {
      const seen = new Set<string>();
      for (const [protocol, t] of hub.totals.bytesOutByProtocol) {
        seen.add(protocol);
        set(t.bytes, { protocol });
      }
      for (const protocol of viewerProtocols) if (!seen.has(protocol)) set(0, { protocol });
    },
    ['protocol'],
  );
  m.gauge(
    'sluice_input_buffered_bytes',
    'RTMP input held before it forms complete messages, all connections.',
    (set) => set(s.input.bufferedBytes),
  );
  m.gauge(
    'sluice_input_budget_bytes',
    'The node-wide RTMP input budget (rtmp.nodeInputBufferBytes).',
    (set) => set(s.input.budgetBytes),
  );
  m.gauge('sluice_ready', '1 when the node accepts new sessions (what /readyz says).', (set) =>
    set(s.state().ready ? 1 : 0),
  );
  m.gauge('sluice_draining', '1 while the node drains after SIGTERM.', (set) =>
    set(s.state().draining ? 1 : 0),
  );
  if (s.perStream.enabled) registerPerStream(m, s);
}

function registerPerStream(m: Metrics, s: NodeMetricSources): void {
  const { hub } = s;
  const max = s.perStream.maxStreams;
  /** The streams with series at this scrape: the first `max` keys in order, so the set is stable. */
  const chosen = (): { keys: string[]; omitted: number } => {
    const keys = [...hub.keys()].sort();
    return { keys: keys.slice(0, max), omitted: Math.max(0, keys.length - max) };
  };
  m.gauge(
    'sluice_stream_viewers',
    'Viewers of one stream (per-stream series, metrics.perStream).',
    (set) => {
      for (const key of chosen().keys) set(hub.get(key)?.subscriberCount ?? 0, { stream: key });
    },
    ['stream'],
  );
  m.gauge(
    'sluice_stream_received_bytes',
    'Payload bytes one stream received since it was created (per-stream series, metrics.perStream).',
    (set) => {
      for (const key of chosen().keys) set(hub.get(key)?.bytesIn ?? 0, { stream: key });
    },
    ['stream'],
  );
  m.gauge(
    'sluice_stream_series_omitted',
    'Streams left without per-stream series at this scrape (over metrics.perStream.maxStreams).',
    (set) => set(chosen().omitted),
  );
}
