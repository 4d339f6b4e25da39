import type { Histogram } from 'prom-client';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { Metrics } from '../../libs/metrics/metrics.ts';
import type { Answer } from './scheduler.ts';

export const RouteKind = { Play: 'play', Ingest: 'ingest' } as const;
export type RouteKind = (typeof RouteKind)[keyof typeof RouteKind];

/**
 * Route decisions as metrics: `sluice_scheduler_routes_total{kind,outcome}` and
 * `sluice_scheduler_route_duration_seconds{kind}`. Outcomes: the edge choice's reason
 * (relaying, hash), owner or new for ingest, else unavailable (503) or bad_request.
 */
export class RouteMetrics {
  private readonly counters: Counters;
  private readonly latency: Histogram<'kind'>;

  constructor(metrics: Metrics) {
    this.counters = metrics.counters;
    this.latency = metrics.histogram(
      'sluice_scheduler_route_duration_seconds',
      'Time to answer a route (play: from memory; ingest: may read the registry), by kind.',
      ['kind'],
    );
  }

  record(kind: RouteKind, startedAt: number, a: Answer): void {
    this.latency.observe({ kind }, (performance.now() - startedAt) / 1000);
    this.counters.inc('scheduler_routes', 1, { kind, outcome: outcomeOf(a) });
  }
}

function outcomeOf(a: Answer): string {
  if (a.status === 200 || a.status === 302) {
    const body = a.body as { edge?: { reason?: string }; origin?: { owner?: boolean } };
    if (body.edge?.reason) return body.edge.reason;
    if (body.origin) return body.origin.owner ? 'owner' : 'new';
    return 'routed';
  }
  if (a.status === 503) return 'unavailable';
  if (a.status >= 400 && a.status < 500) return 'bad_request';
  return 'error';
}
