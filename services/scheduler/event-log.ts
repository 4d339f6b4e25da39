import type { Logger } from 'pino';
import { Subject, type EventBus } from '../../libs/cluster/types.ts';
import type { Counters } from '../../libs/metrics/counters.ts';

/** The slice of the bus the scheduler uses: it listens, never publishes. */
export type EventSource = Pick<EventBus, 'subscribe'>;

/**
 * Counts and logs cluster events for operators (`scheduler_events_total{subject}` on /metrics,
 * debug lines for stream and relay changes). Deliberately nothing more: the scheduler's
 * answers come from the registry alone, so a replica that missed events (NATS down, just
 * started) answers exactly like one that saw them all. Returns unsubscribe.
 */
export function observeEvents(bus: EventSource, counters: Counters, log: Logger): () => void {
  const count = (subject: Subject): void => counters.inc('scheduler_events', 1, { subject });
  const offs = [
    bus.subscribe(Subject.StreamPublished, (e) => {
      count(Subject.StreamPublished);
      log.debug({ event: 'published', key: e.key, owner: e.nodeId, epoch: e.epoch }, 'stream published');
    }),
    bus.subscribe(Subject.StreamUnpublished, (e) => {
      count(Subject.StreamUnpublished);
      log.debug(
        { event: 'unpublished', key: e.key, owner: e.nodeId, epoch: e.epoch, reason: e.reason },
        'stream unpublished',
      );
    }),
    bus.subscribe(Subject.RelayStarted, (e) => {
      count(Subject.RelayStarted);
      log.debug({ event: 'relay-started', key: e.key, edge: e.nodeId, from: e.fromNodeId }, 'relay started');
    }),
    bus.subscribe(Subject.RelayStopped, (e) => {
      count(Subject.RelayStopped);
      log.debug({ event: 'relay-stopped', key: e.key, edge: e.nodeId, reason: e.reason }, 'relay stopped');
    }),
    bus.subscribe(Subject.SessionStarted, () => count(Subject.SessionStarted)),
    bus.subscribe(Subject.SessionStopped, () => count(Subject.SessionStopped)),
    bus.subscribe(Subject.NodeHeartbeat, () => count(Subject.NodeHeartbeat)),
  ];
  return () => {
    for (const off of offs) off();
  };
}
