import type { NodeInfo, NodeStreamInfo, StreamOwner, StreamRegistry } from '../../libs/cluster/types.ts';

/** A node record with its per-stream presence, as the scheduler routes on it. */
export type ClusterNode = NodeInfo & { streams: Record<string, NodeStreamInfo> };

/** The slice of the registry the scheduler reads (it never writes). */
export type RegistrySource = Pick<StreamRegistry, 'lookup' | 'listStreams' | 'listNodes' | 'getPresence'>;

/** What the scheduler asks: owners, and nodes joined with their presence. */
export interface RegistryReader {
  lookup(key: string): Promise<StreamOwner | null>;
  listStreams(): Promise<StreamOwner[]>;
  listNodes(): Promise<ClusterNode[]>;
}

/** Every node record joined with its presence record (empty when it has none). */
export async function readNodes(registry: RegistrySource): Promise<ClusterNode[]> {
  const nodes = await registry.listNodes();
  const presence = await Promise.all(nodes.map((n) => registry.getPresence(n.nodeId)));
  return nodes.map((n, i) => {
    const p = presence[i];
    return { ...n, streams: p && p.instanceId === n.instanceId ? p.streams : {} };
  });
}

/** Bounds the cache: a flood of distinct keys costs memory only up to this. */
const MAX_ENTRIES = 10_000;

interface Entry {
  at: number;
  value: Promise<unknown>;
}

/**
 * Registry reads reused for at most `ttlMs` (≤ 1 s by the config schema); concurrent identical
 * reads share one round trip; failures are never kept. With ttlMs 0 every call reads Redis.
 * It caches the shared registry and holds nothing of its own, so replicas stay
 * interchangeable: two schedulers differ by at most `ttlMs` of staleness.
 */
export class RegistryCache implements RegistryReader {
  private readonly registry: RegistrySource;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();

  constructor(registry: RegistrySource, ttlMs: number, now: () => number = Date.now) {
    this.registry = registry;
    this.ttlMs = ttlMs;
    this.now = now;
  }

  listNodes(): Promise<ClusterNode[]> {
    return this.cached('nodes', () => readNodes(this.registry));
  }

  listStreams(): Promise<StreamOwner[]> {
    return this.cached('streams', () => this.registry.listStreams());
  }

  lookup(key: string): Promise<StreamOwner | null> {
    return this.cached(`owner:${key}`, () => this.registry.lookup(key));
  }

  private cached<T>(id: string, read: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(id);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value as Promise<T>;
    const value = read();
    if (this.ttlMs <= 0) return value;
    if (this.entries.size >= MAX_ENTRIES) this.prune();
    const e: Entry = { at: this.now(), value };
    this.entries.set(id, e);
    value.catch(() => {
      if (this.entries.get(id) === e) this.entries.delete(id);
    });
    return value;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (now - e.at >= this.ttlMs) this.entries.delete(k);
    // Still full of fresh entries (a burst of distinct keys): start over.
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
  }
}
