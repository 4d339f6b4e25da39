import type { Logger } from 'pino';
import type { EventBus, EventMap, Subject } from '../../libs/cluster/types.ts';

let lastErrorLogAt = 0;

/**
 * Publishes an event without ever throwing into a media path. An event the schema rejects is a
 * bug in Sluice; it is logged (at most every 10 s) and dropped, and the session goes on.
 */
export function emit<S extends Subject>(bus: EventBus, log: Logger, subject: S, event: EventMap[S]): void {
  try {
    bus.publish(subject, event);
  } catch (e) {
    const now = Date.now();
    if (now - lastErrorLogAt > 10_000) {
      lastErrorLogAt = now;
      log.error({ subject, err: (e as Error).message }, 'event not published (invalid against its schema)');
    }
  }
}
