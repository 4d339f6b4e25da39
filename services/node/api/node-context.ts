import type { Logger } from 'pino';
import type { Counters } from '../../../libs/metrics/counters.ts';
import type { StreamHub } from '../../../libs/stream/index.ts';
import type { RelayPullControl, RelayPushControl } from '../control-types.ts';
import type { SessionTable } from './sessions.ts';

/** What the node's lal and /api/v1 handlers read and drive. */
export interface NodeApiContext {
  nodeId: string;
  hub: StreamHub;
  table: SessionTable;
  counters: Counters;
  log: Logger;
  /** Process start (lal_info start_time). */
  startedAt: number;
  /** Ends a session of any protocol by id; false when there is none. */
  kick(sessionId: string, reason: string): boolean;
  relayPulls?: () => RelayPullControl | null;
  relayPushes?: () => RelayPushControl | null;
}
