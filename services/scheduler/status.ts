import { PROCESS_GAUGE_HELP } from '../../libs/metrics/process-gauge-help.ts';
import type { ClusterView } from './cluster-view.ts';
import type { Reconciler } from './reconciler.ts';

export interface StatusSources {
  view: ClusterView;
  reconciler: Pick<Reconciler, 'ok' | 'bootstrapped' | 'lastOkAt'>;
  /** The Redis connection is up now (RedisRegistry.status === 'ready'). */
  registryUp: () => boolean;
  /** Whether a NATS URL is configured at all. */
  natsConfigured: boolean;
}

export interface ViewStatus {
  /** /readyz: 200 when true. */
  ready: boolean;
  body: {
    status: 'ok' | 'starting' | 'registry unavailable';
    /** The first full read of Redis succeeded. */
    bootstrapped: boolean;
    registry: 'up' | 'down';
    /** How the view hears of changes: NATS events (plus reconciles), or Redis polling alone. */
    events: 'connected' | 'disconnected' | 'off';
    /** True while Redis is unreachable: answers come from the view as it was (routing goes on). */
    stale: boolean;
    /** ms since the last successful read of the whole cluster from Redis; null before the first. */
    reconciledMsAgo: number | null;
    nodes: number;
    streams: number;
  };
}

/**
 * Readiness: bootstrapped from Redis, and Redis answering (the connection is up and the last
 * reconcile worked). While Redis is down the scheduler keeps routing from its view (/readyz is
 * 503 with `stale: true`, so a load balancer prefers a replica that still reaches Redis, and
 * `sluice_scheduler_view_stale` is 1).
 */
export function viewStatus(s: StatusSources): ViewStatus {
  const now = s.view.now();
  const { bootstrapped } = s.reconciler;
  const registryOk = s.reconciler.ok && s.registryUp();
  const last = s.reconciler.lastOkAt;
  return {
    ready: bootstrapped && registryOk,
    body: {
      status: !bootstrapped ? 'starting' : registryOk ? 'ok' : 'registry unavailable',
      bootstrapped,
      registry: registryOk ? 'up' : 'down',
      events: !s.natsConfigured ? 'off' : s.view.eventsFlowing ? 'connected' : 'disconnected',
      stale: bootstrapped && !registryOk,
      reconciledMsAgo: Number.isFinite(last) ? Math.round(now - last) : null,
      nodes: s.view.nodeCount,
      streams: s.view.streamCount,
    },
  };
}

/** Gauges for /metrics, next to the counters. */
export function viewGauges(s: StatusSources): Record<string, number> {
  const st = viewStatus(s);
  return {
    scheduler_view_nodes: st.body.nodes,
    scheduler_view_streams: st.body.streams,
    scheduler_view_stale: st.body.stale ? 1 : 0,
    scheduler_view_bootstrapped: st.body.bootstrapped ? 1 : 0,
    scheduler_events_connected: st.body.events === 'connected' ? 1 : 0,
    scheduler_reconcile_age_seconds:
      st.body.reconciledMsAgo === null ? -1 : Math.round(st.body.reconciledMsAgo / 100) / 10,
  };
}

/** HELP text of the scheduler's gauges (`sluice_<key>`), including the process ones it reports. */
export const SCHEDULER_GAUGE_HELP: Record<string, string> = {
  scheduler_view_nodes: 'Nodes in the scheduler view (cluster view size).',
  scheduler_view_streams: 'Streams in the scheduler view (cluster view size).',
  scheduler_view_stale: '1 while Redis is unreachable and the view is answered as it was.',
  scheduler_view_bootstrapped: '1 once the first full read of Redis succeeded.',
  scheduler_events_connected: '1 while NATS events flow into the view.',
  scheduler_reconcile_age_seconds:
    'Seconds since the last successful full read of Redis (-1 before the first).',
  ...PROCESS_GAUGE_HELP,
};
