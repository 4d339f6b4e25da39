import type { Metrics } from '../../libs/metrics/metrics.ts';

/** Relay start latency (first viewer asked -> first media) spans registry, connect and the origin's GOP. */
const RELAY_START_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * An edge's relay metrics: the relays it runs (read at scrape) and how long each took from its
 * start to its first media. Started and failed relays are counters (`relays_started`,
 * `relays_failed`) bumped by the relay manager and the relays.
 */
export function registerRelayMetrics(
  m: Metrics,
  manager: () => { readonly count: number; readonly liveCount: number } | null,
): { firstMedia: (startSeconds: number) => void } {
  m.gauge('sluice_relays_active', 'Relays this edge runs (pulling, or resolving the owner).', (set) =>
    set(manager()?.count ?? 0),
  );
  m.gauge('sluice_relays_live', 'Relays receiving media from their origin now.', (set) =>
    set(manager()?.liveCount ?? 0),
  );
  const start = m.histogram(
    'sluice_relay_start_duration_seconds',
    'From a relay start to its first media from the origin.',
    [],
    RELAY_START_BUCKETS_S,
  );
  return { firstMedia: (s) => start.observe(s) };
}
