import type { Logger } from 'pino';
import type { RelayInfo } from '../control-types.ts';

/**
 * Something whose relays can be watched: every state change of every pull or push (connecting,
 * running, backoff, stopped) reaches the listeners, e.g. webhooks firing on_relay_pull_start/stop.
 */
export interface RelayWatchable {
  /** Returns the function that removes the listener. */
  watch(listener: (info: RelayInfo) => void): () => void;
}

/** The listeners of one relay manager; one that throws is logged and the others still run. */
export class RelayWatchers {
  private readonly listeners = new Set<(info: RelayInfo) => void>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  add(listener: (info: RelayInfo) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(info: RelayInfo): void {
    for (const l of this.listeners) {
      try {
        l(info);
      } catch (err) {
        this.log.error({ err }, 'relay watcher failed');
      }
    }
  }
}
