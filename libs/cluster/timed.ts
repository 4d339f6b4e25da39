import type { Counters } from '../metrics/counters.ts';
import { timedOps } from '../metrics/timed-ops.ts';
import type { EventBus, StreamRegistry } from './types.ts';

/**
 * Every registry operation, by method name (its `op` label). A Record over the interface's keys:
 * a method added to StreamRegistry does not compile until it is listed here (close is not an
 * operation worth timing).
 */
const REGISTRY_OPS: Record<Exclude<keyof StreamRegistry, 'close'>, string> = {
  claim: 'claim',
  refresh: 'refresh',
  release: 'release',
  releaseAny: 'releaseAny',
  setMediaInfo: 'setMediaInfo',
  lookup: 'lookup',
  listStreams: 'listStreams',
  listStreamEpochs: 'listStreamEpochs',
  registerNode: 'registerNode',
  unregisterNode: 'unregisterNode',
  getNode: 'getNode',
  listNodes: 'listNodes',
  listNodeIds: 'listNodeIds',
  writePresence: 'writePresence',
  touchPresence: 'touchPresence',
  getPresence: 'getPresence',
  instanceConnected: 'instanceConnected',
};

/** The bus operations that are calls (subscriptions and serving are not): publish and request. */
const BUS_OPS: Partial<Record<keyof EventBus, string>> = {
  publish: 'publish',
  requestControl: 'request',
};

/** The registry with `sluice_registry_op_duration_seconds{op}` and `sluice_registry_op_errors_total{op}`. */
export function timedRegistry<R extends StreamRegistry>(registry: R, counters: Counters): R {
  return timedOps(
    registry,
    {
      family: 'registry',
      help: 'Registry (Redis) operations by operation, until the answer (or the failure) came.',
      ops: REGISTRY_OPS,
    },
    counters,
  );
}

/**
 * The bus with `sluice_bus_op_duration_seconds{op}` and `sluice_bus_op_errors_total{op}`:
 * publish is the time to validate and hand an event to the client (it never waits for NATS),
 * request the round trip of a control request.
 */
export function timedBus<B extends EventBus>(bus: B, counters: Counters): B {
  return timedOps(
    bus,
    {
      family: 'bus',
      help: 'Event bus (NATS) operations: publish (validate and queue an event), request (control round trip).',
      ops: BUS_OPS as Record<string, string>,
    },
    counters,
  );
}
