import type { ClaimResult, NodeInfo, StreamMediaInfo, StreamOwner, StreamRegistry } from './types.ts';

/**
 * The stream registry of a standalone node: the same semantics as the Redis one (see
 * redis-scripts.ts), kept in process. Expiry is checked lazily on every read, so there are no
 * timers to stop. Values are copied in and out: callers never share objects with the store.
 */

// Keys end up inside Redis hash tags (`{s:<key>}`), so neither may contain braces; stream keys
// use the stream-name alphabet (libs/rtmp/stream-key.ts) plus the `/` between app and name.
const STREAM_KEY = /^[A-Za-z0-9_.~/-]{1,512}$/;
const NODE_ID = /^[^\s{}]{1,256}$/;

export function checkStreamKey(key: string): void {
  if (!STREAM_KEY.test(key)) throw new Error(`registry: invalid stream key ${JSON.stringify(key)}`);
}

export function checkNodeId(nodeId: string): void {
  if (!NODE_ID.test(nodeId)) throw new Error(`registry: invalid node id ${JSON.stringify(nodeId)}`);
}

/** Leases and TTLs are whole milliseconds (Redis PX takes integers). */
export function checkMs(name: string, ms: number): void {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`registry: ${name} must be a positive integer`);
}

export function checkEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch <= 0)
    throw new Error('registry: epoch must be a positive integer');
}

export interface MemoryRegistryOptions {
  /** Clock in ms since epoch; defaults to Date.now. */
  now?: () => number;
}

export class MemoryRegistry implements StreamRegistry {
  private readonly owners = new Map<string, StreamOwner>();
  /** Last epoch per key; kept after release and expiry so epochs are never reused. */
  private readonly epochs = new Map<string, number>();
  private readonly nodes = new Map<string, { info: NodeInfo; expiresAt: number }>();
  private readonly now: () => number;
  private closed = false;

  constructor(opts: MemoryRegistryOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  claim(key: string, nodeId: string, leaseMs: number): Promise<ClaimResult> {
    return this.run(() => {
      checkStreamKey(key);
      checkNodeId(nodeId);
      checkMs('leaseMs', leaseMs);
      const now = this.now();
      const cur = this.live(key, now);
      if (cur && cur.nodeId !== nodeId) return { ok: false, owner: structuredClone(cur) };
      // Seeded from the clock like the Redis counter, so epochs compare across implementations.
      const epoch = (this.epochs.get(key) ?? now) + 1;
      this.epochs.set(key, epoch);
      this.owners.set(key, { key, nodeId, epoch, since: now, expiresAt: now + leaseMs, media: {} });
      return { ok: true, epoch };
    });
  }

  refresh(key: string, nodeId: string, epoch: number, leaseMs: number): Promise<boolean> {
    return this.run(() => {
      checkStreamKey(key);
      checkMs('leaseMs', leaseMs);
      const now = this.now();
      const cur = this.live(key, now);
      if (!cur || cur.nodeId !== nodeId || cur.epoch !== epoch) return false;
      cur.expiresAt = now + leaseMs;
      return true;
    });
  }

  release(key: string, nodeId: string, epoch: number): Promise<boolean> {
    return this.run(() => {
      checkStreamKey(key);
      const cur = this.live(key, this.now());
      if (!cur || cur.nodeId !== nodeId || cur.epoch !== epoch) return false;
      this.owners.delete(key);
      return true;
    });
  }

  setMediaInfo(key: string, nodeId: string, epoch: number, media: StreamMediaInfo): Promise<void> {
    return this.run(() => {
      checkStreamKey(key);
      const cur = this.live(key, this.now());
      if (cur && cur.nodeId === nodeId && cur.epoch === epoch) cur.media = structuredClone(media);
    });
  }

  lookup(key: string): Promise<StreamOwner | null> {
    return this.run(() => {
      checkStreamKey(key);
      const cur = this.live(key, this.now());
      return cur ? structuredClone(cur) : null;
    });
  }

  listStreams(): Promise<StreamOwner[]> {
    return this.run(() => {
      const now = this.now();
      const out: StreamOwner[] = [];
      for (const key of [...this.owners.keys()]) {
        const cur = this.live(key, now);
        if (cur) out.push(structuredClone(cur));
      }
      return out;
    });
  }

  registerNode(info: NodeInfo, ttlMs: number): Promise<void> {
    return this.run(() => {
      checkNodeId(info.nodeId);
      checkMs('ttlMs', ttlMs);
      this.nodes.set(info.nodeId, { info: structuredClone(info), expiresAt: this.now() + ttlMs });
    });
  }

  unregisterNode(nodeId: string): Promise<void> {
    return this.run(() => {
      this.nodes.delete(nodeId);
    });
  }

  getNode(nodeId: string): Promise<NodeInfo | null> {
    return this.run(() => {
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

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** The claim of `key` if it has not expired; drops it otherwise. */
  private live(key: string, now: number): StreamOwner | undefined {
    const cur = this.owners.get(key);
    if (cur && cur.expiresAt <= now) {
      this.owners.delete(key);
      return undefined;
    }
    return cur;
  }

  private liveNode(nodeId: string, now: number): NodeInfo | undefined {
    const n = this.nodes.get(nodeId);
    if (n && n.expiresAt <= now) {
      this.nodes.delete(nodeId);
      return undefined;
    }
    return n?.info;
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
