import { Subject } from '../../libs/cluster/types.ts';
import type { Stream } from '../../libs/stream/index.ts';
import type { PlayDecision } from '../node/hooks.ts';
import { Relay, type RelayDeps, type RelayOptions } from './relay.ts';

export interface RelayManagerOptions extends RelayOptions {
  /** A relay stops this long after its last viewer left. */
  idleStopMs: number;
  /** At most this many streams relayed at once; viewers of another stream are refused (503). */
  maxRelays: number;
}

export interface RelayManagerDeps extends RelayDeps {
  opts: RelayManagerOptions;
}

/** Refusals at the relay cap are logged at most this often (each is counted). */
const CAP_LOG_EVERY_MS = 10_000;

/**
 * Starts a relay for a key when its first viewer arrives on this edge (all later viewers share
 * it), stops it `idleStopMs` after the last one left, and keeps the number of relays under
 * `maxRelays`: a viewer of one more stream is refused before it is attached.
 */
export class RelayManager {
  private readonly relays = new Map<string, Relay>();
  private readonly idle = new Map<string, NodeJS.Timeout>();
  private readonly unsubscribe: () => void;
  private readonly d: RelayManagerDeps;
  private lastCapLog = 0;

  constructor(d: RelayManagerDeps) {
    this.d = d;
    d.hub.onViewersChanged = (s) => this.onViewersChanged(s);
    this.unsubscribe = d.bus.subscribe(Subject.StreamPublished, (e) => {
      const relay = this.relays.get(e.key);
      if (relay) relay.onPublished(e);
      // Viewers still waiting on a key whose relay gave up: pull for them now.
      else if ((d.hub.get(e.key)?.subscriberCount ?? 0) > 0) this.ensure(e.key);
    });
  }

  get count(): number {
    return this.relays.size;
  }

  /** Relays receiving media now (read at scrape time). */
  get liveCount(): number {
    let n = 0;
    for (const r of this.relays.values()) if (r.live) n++;
    return n;
  }

  isRelaying(key: string): boolean {
    return this.relays.get(key)?.live ?? false;
  }

  /** The edge's play gate: a viewer of a stream not relayed yet needs a free relay slot. */
  admit(key: string): PlayDecision {
    if (this.relays.has(key) || this.relays.size < this.d.opts.maxRelays) return { ok: true, kind: 'player' };
    this.d.counters.inc('relays_refused_cap');
    const now = Date.now();
    if (now - this.lastCapLog >= CAP_LOG_EVERY_MS) {
      this.lastCapLog = now;
      this.d.log.warn({ stream: key, maxRelays: this.d.opts.maxRelays }, 'relay cap reached: viewer refused');
    }
    return {
      ok: false,
      status: 503,
      description: `edge is relaying its maximum of ${this.d.opts.maxRelays} streams`,
    };
  }

  /** Starts (or keeps) a relay; without viewers it stops after idleStopMs. False at the cap. */
  ensure(key: string): boolean {
    if (!this.relays.has(key)) {
      if (this.relays.size >= this.d.opts.maxRelays) {
        this.d.counters.inc('relays_refused_cap');
        return false;
      }
      const relay = new Relay(key, this.d);
      relay.onGiveUp = (reason) => this.stop(key, reason);
      this.relays.set(key, relay);
      this.d.counters.inc('relays_started');
      this.d.log.info({ stream: key }, 'relay requested');
      relay.start();
    }
    if ((this.d.hub.get(key)?.subscriberCount ?? 0) === 0) this.armIdle(key);
    return true;
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
    const relay = this.relays.get(s.key);
    if (s.subscriberCount > 0) {
      this.clearIdle(s.key);
      if (!relay) this.ensure(s.key);
    } else if (relay && !relay.everDelivered) {
      // Never got the stream (a key nobody publishes): its slot is not worth keeping.
      this.stop(s.key, 'no viewers');
    } else if (relay) {
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
