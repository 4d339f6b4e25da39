import type { ApiAuthConfig } from '../../node/api/auth.ts';
import { Router } from '../../node/api/router.ts';
import type { SchedulerApiContext } from './context.ts';
import { schedulerLalRoutes } from './lal-routes.ts';
import { schedulerV1Routes } from './v1-routes.ts';

/** The scheduler's cluster-wide API behind the nodes' router (token rules, 405, body limits, envelopes). */
export function schedulerApiRouter(x: SchedulerApiContext, auth: ApiAuthConfig): Router {
  return new Router([...schedulerLalRoutes(x), ...schedulerV1Routes(x)], {
    auth,
    counters: x.counters,
    log: x.log,
  });
}
