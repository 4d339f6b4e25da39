import type { Logger } from 'pino';
import type { ControlReply } from '../../../libs/cluster/types.ts';
import type { Counters } from '../../../libs/metrics/counters.ts';
import type { ControlResult } from '../../node/control-types.ts';
import type { ClusterView } from '../cluster-view.ts';
import type { Scheduler } from '../scheduler.ts';
import type { SessionIndex } from '../session-index.ts';
import type { ControlForwarder } from './control-forward.ts';

/** What the scheduler's cluster-wide API (lal and /api/v1 sessions, kicks, relay pulls) reads and drives. */
export interface SchedulerApiContext {
  nodeId: string;
  /** Process start (lal_info start_time). */
  startedAt: number;
  view: ClusterView;
  scheduler: Scheduler;
  sessions: SessionIndex;
  control: ControlForwarder;
  counters: Counters;
  log: Logger;
}

/** Stream keys the view has an owner for, in order. */
export const ownedKeys = (x: SchedulerApiContext): string[] =>
  x.view.streamKeysAfter(null, x.view.streamCount);

/** A refused control reply as the node's ControlResult (its code, else `refused`). */
export const refusalOf = (r: ControlReply): Extract<ControlResult<unknown>, { ok: false }> => ({
  ok: false,
  code: r.code ?? 'refused',
  message: r.error ?? 'refused',
});
