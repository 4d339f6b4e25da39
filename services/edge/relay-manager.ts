import { Subject } from '../../libs/cluster/types.ts';
import type { Stream } from '../../libs/stream/index.ts';
import { Relay, type RelayDeps, type RelayOptions } from './relay.ts';

export interface RelayManagerOptions extends RelayOptions {
  /** A relay stops this long after its last viewer left. */
  idleStopMs: number;
}

export interface RelayManagerDeps extends RelayDeps {
  opts: RelayManagerOptions;
}

/**
 * Starts a relay for a key when its first viewer arrives on this edge (all later viewers share
 * it) and stops it `idleStopMs` after the last one left.
 */
export class RelayManager {
  private readonly relays = new Map<string, Relay>();
  private readonly idle = new Map<string, NodeJS.Timeout>();
  private readonly unsubscribe: () => void;
  private readonly d: RelayManagerDeps;

  constructor(d: RelayManagerDeps) {
    this.d = d;
    d.hub.onViewersChanged = (s) => this.onViewersChanged(s);
    this.unsubscribe = d.bus.subscribe(Subject.StreamPublished, (e) =>
      this.relays.get(e.key)?.onPublished(e.nodeId),
    );
  }

  get count(): number {
    return this.relays.size;
  }

  isRelaying(key: string): boolean {
    return this.relays.get(key)?.live ?? false;
  }

  /** Starts (or keeps) a relay; without viewers it stops after idleStopMs. */
  ensure(key: string): void {
    if (!this.relays.has(key)) {
      const relay = new Relay(key, this.d);
      this.relays.set(key, relay);
      this.d.counters.inc('relays_started');
      this.d.log.info({ stream: key }, 'relay requested');
      relay.start();
    }
    if ((this.d.hub.get(key)?.subscriberCount ?? 0) === 0) this.armIdle(key);
  }

  stop(key: string, reason: string): boolean {
    const relay = this.relays.get(key);
    if (!relay) return false;
    this.relays.delete(key);
    this.clearIdle(key);
    relay.stop(reason);
    return true;
  }

  stopAll(): void {
    for (const key of [...this.relays.keys()]) this.stop(key, 'shutdown');
    this.unsubscribe();
  }

  private onViewersChanged(s: Stream): void {
    if (s.subscriberCount > 0) {
      this.clearIdle(s.key);
      if (!this.relays.has(s.key)) this.ensure(s.key);
    } else if (this.relays.has(s.key)) {
      this.armIdle(s.key);
    }
  }

  private armIdle(key: string): void {
    if (this.idle.has(key)) return;
    const t = setTimeout(() => {
      this.idle.delete(key);
      if ((this.d.hub.get(key)?.subscriberCount ?? 0) === 0) this.stop(key, 'no viewers');
    }, this.d.opts.idleStopMs);
    t.unref();
    this.idle.set(key, t);
  }

  private clearIdle(key: string): void {
    const t = this.idle.get(key);
    if (t) clearTimeout(t);
    this.idle.delete(key);
  }
}
