import { checkEpoch, checkHolder, checkMs, checkNodeId, checkStreamKey } from './checks.ts';
import type {
  ClaimOptions,
  ClaimResult,
  Holder,
  NodeInfo,
  NodePresence,
  NodeStreamInfo,
  PresenceChanges,
  RegisterResult,
  StreamMediaInfo,
  StreamOwner,
  StreamRegistry,
} from './types.ts';

/**
 * The stream registry of a standalone node: the same semantics as the Redis one (see
 * redis-scripts.ts), kept in process. Its clock plays the part of Redis's: every lease is
 * measured by it alone. Expiry is checked lazily on every read, so there are no timers to
 * stop. Values are copied in and out: callers never share objects with the store.
 */

/** Epoch counters are pruned once there are this many. */
const EPOCHS_PRUNE_AT = 10_000;

export interface MemoryRegistryOptions {
  /** Clock in ms since epoch; defaults to Date.now. */
  now?: () => number;
}

interface Claim {
  owner: Omit<StreamOwner, 'ttlMs'>;
  expiresAt: number;
}

interface Presence {
  instanceId: string;
  seq: number;
  streams: Map<string, NodeStreamInfo>;
  expiresAt: number;
}

export class MemoryRegistry implements StreamRegistry {
  private readonly claims = new Map<string, Claim>();
  /** Last epoch per key, kept after release and expiry (for a while: see pruneEpochs). */
  private readonly epochs = new Map<string, number>();
  private readonly nodes = new Map<string, { info: NodeInfo; expiresAt: number }>();
  private readonly presence = new Map<string, Presence>();
  private readonly now: () => number;
  private closed = false;

  constructor(opts: MemoryRegistryOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  claim(key: string, holder: Holder, leaseMs: number, opts: ClaimOptions = {}): Promise<ClaimResult> {
    return this.run(() => {
      checkStreamKey(key);
      checkHolder(holder);
      checkMs('leaseMs', leaseMs);
      const now = this.now();
      const cur = this.live(key, now);
      if (cur && cur.owner.instanceId !== holder.instanceId && cur.owner.epoch !== opts.takeoverEpoch) {
        return { ok: false, owner: this.view(cur, now) };
      }
      // At least the clock in microseconds, like the Redis script, so epochs compare across
      // implementations and a forgotten counter is not needed to keep them increasing.
      const epoch = Math.max((this.epochs.get(key) ?? 0) + 1, Math.floor(now * 1000));
      this.epochs.set(key, epoch);
      this.pruneEpochs(now);
      this.claims.set(key, {
        owner: {
          key,
          nodeId: holder.nodeId,
          instanceId: holder.instanceId,
          epoch,
          since: now,
          relayAddr: opts.relayAddr ?? '',
          media: {},
        },
        expiresAt: now + leaseMs,
      });
      return { ok: true, epoch };
    });
  }

  refresh(key: string, holder: Holder, epoch: number, leaseMs: number): Promise<boolean> {
    return this.run(() => {
      checkStreamKey(key);
      checkMs('leaseMs', leaseMs);
      const now = this.now();
      const cur = this.held(key, holder, epoch, now);
      if (!cur) return false;
      cur.expiresAt = now + leaseMs;
      return true;
    });
  }

  release(key: string, holder: Holder, epoch: number): Promise<boolean> {
    return this.run(() => {
      checkStreamKey(key);
      checkEpoch(epoch);
      if (!this.held(key, holder, epoch, this.now())) return false;
      this.claims.delete(key);
      return true;
    });
  }

  releaseAny(key: string, holder: Holder): Promise<boolean> {
    return this.run(() => {
      checkStreamKey(key);
      const cur = this.live(key, this.now());
      if (!cur || cur.owner.instanceId !== holder.instanceId) return false;
      this.claims.delete(key);
      return true;
    });
  }

  setMediaInfo(key: string, holder: Holder, epoch: number, media: StreamMediaInfo): Promise<void> {
    return this.run(() => {
      checkStreamKey(key);
      const cur = this.held(key, holder, epoch, this.now());
      if (cur) cur.owner.media = structuredClone(media);
    });
  }

  lookup(key: string): Promise<StreamOwner | null> {
    return this.run(() => {
      checkStreamKey(key);
      const now = this.now();
      const cur = this.live(key, now);
      return cur ? this.view(cur, now) : null;
    });
  }

  listStreams(): Promise<StreamOwner[]> {
    return this.run(() => {
      const now = this.now();
      const out: StreamOwner[] = [];
      for (const key of [...this.claims.keys()]) {
        const cur = this.live(key, now);
        if (cur) out.push(this.view(cur, now));
      }
      return out;
    });
  }

  listStreamEpochs(): Promise<Map<string, number>> {
    return this.run(() => {
      const now = this.now();
      const out = new Map<string, number>();
      for (const key of [...this.claims.keys()]) {
        const cur = this.live(key, now);
        if (cur) out.set(key, cur.owner.epoch);
      }
      return out;
    });
  }

  listNodeIds(): Promise<string[]> {
    return this.run(() => {
      const now = this.now();
      return [...this.nodes.keys()].filter((id) => this.liveNode(id, now) !== undefined);
    });
  }

  registerNode(info: NodeInfo, ttlMs: number): Promise<RegisterResult> {
    return this.run(() => {
      checkHolder(info);
      checkMs('ttlMs', ttlMs);
      const now = this.now();
      const prev = this.liveNode(info.nodeId, now);
      this.nodes.set(info.nodeId, { info: structuredClone(info), expiresAt: now + ttlMs });
      return { previousInstanceId: prev && prev.instanceId !== info.instanceId ? prev.instanceId : null };
    });
  }

  unregisterNode(holder: Holder): Promise<void> {
    return this.run(() => {
      if (this.nodes.get(holder.nodeId)?.info.instanceId === holder.instanceId) {
        this.nodes.delete(holder.nodeId);
      }
      if (this.presence.get(holder.nodeId)?.instanceId === holder.instanceId) {
        this.presence.delete(holder.nodeId);
      }
    });
  }

  getNode(nodeId: string): Promise<NodeInfo | null> {
    return this.run(() => {
      checkNodeId(nodeId);
      const n = this.liveNode(nodeId, this.now());
      return n ? structuredClone(n) : null;
    });
  }

  listNodes(): Promise<NodeInfo[]> {
    return this.run(() => {
      const now = this.now();
      const out: NodeInfo[] = [];
      for (const id of [...this.nodes.keys()]) {
        const n = this.liveNode(id, now);
        if (n) out.push(structuredClone(n));
      }
      return out;
    });
  }

  writePresence(
    holder: Holder,
    seq: number,
    changes: PresenceChanges,
    full: boolean,
    ttlMs: number,
  ): Promise<void> {
    return this.run(() => {
      checkHolder(holder);
      checkMs('ttlMs', ttlMs);
      for (const key of Object.keys(changes)) checkStreamKey(key);
      const now = this.now();
      let p = this.livePresence(holder.nodeId, now);
      const ours = p?.instanceId === holder.instanceId;
      if (!full && !ours) throw new Error('registry: presence record missing; write it in full');
      if (full || !p) {
        p = { instanceId: holder.instanceId, seq, streams: new Map(), expiresAt: 0 };
        this.presence.set(holder.nodeId, p);
      }
      p.seq = seq;
      p.expiresAt = now + ttlMs;
      for (const [key, info] of Object.entries(changes)) {
        if (info) p.streams.set(key, structuredClone(info));
        else p.streams.delete(key);
      }
    });
  }

  touchPresence(holder: Holder, ttlMs: number): Promise<boolean> {
    return this.run(() => {
      checkMs('ttlMs', ttlMs);
      const now = this.now();
      const p = this.livePresence(holder.nodeId, now);
      if (!p || p.instanceId !== holder.instanceId) return false;
      p.expiresAt = now + ttlMs;
      return true;
    });
  }

  getPresence(nodeId: string): Promise<NodePresence | null> {
    return this.run(() => {
      checkNodeId(nodeId);
      const p = this.livePresence(nodeId, this.now());
      if (!p) return null;
      return {
        nodeId,
        instanceId: p.instanceId,
        seq: p.seq,
        streams: Object.fromEntries([...p.streams].map(([k, v]) => [k, { ...v }])),
      };
    });
  }

  /** One process: nobody else can be connected to it, so it cannot tell. */
  instanceConnected(_instanceId: string): Promise<boolean | null> {
    return this.run(() => null);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /**
   * Forgets counters of keys without a claim whose last epoch is over a minute old: the next
   * claim's epoch (the clock in µs) is higher anyway. Keeps the map bounded by recent keys,
   * whatever keys publishers choose.
   */
  private pruneEpochs(now: number): void {
    if (this.epochs.size < EPOCHS_PRUNE_AT) return;
    const before = (now - 60_000) * 1000;
    for (const [key, epoch] of this.epochs) {
      if (epoch < before && !this.claims.has(key)) this.epochs.delete(key);
    }
  }

  /** The claim of `key` if it has not expired; drops it otherwise. */
  private live(key: string, now: number): Claim | undefined {
    const cur = this.claims.get(key);
    if (cur && cur.expiresAt <= now) {
      this.claims.delete(key);
      return undefined;
    }
    return cur;
  }

  /** The live claim of `key` if (holder's instance, epoch) holds it. */
  private held(key: string, holder: Holder, epoch: number, now: number): Claim | undefined {
    const cur = this.live(key, now);
    return cur && cur.owner.instanceId === holder.instanceId && cur.owner.epoch === epoch ? cur : undefined;
  }

  private view(c: Claim, now: number): StreamOwner {
    return { ...structuredClone(c.owner), ttlMs: c.expiresAt - now };
  }

  private liveNode(nodeId: string, now: number): NodeInfo | undefined {
    const n = this.nodes.get(nodeId);
    if (n && n.expiresAt <= now) {
      this.nodes.delete(nodeId);
      return undefined;
    }
    return n?.info;
  }

  private livePresence(nodeId: string, now: number): Presence | undefined {
    const p = this.presence.get(nodeId);
    if (p && p.expiresAt <= now) {
      this.presence.delete(nodeId);
      return undefined;
    }
    return p;
  }

  /** Async like the Redis registry: argument errors and use after close reject, never throw. */
  private run<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('registry: closed'));
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }
}
