import type { ClusterNode } from './registry-cache.ts';
import { NodeRole, type StreamOwner } from '../../libs/cluster/types.ts';
import { hrwPick, hrwScore } from './hrw.ts';
import { freeConnections, isHealthy, loadRatio, originLoadRatio } from './node-health.ts';

/**
 * The scheduler's choices (DESIGN.md "Cluster contract", Scheduler): pure functions of the
 * registry's node list and the clock, so every replica answers the same.
 */

export interface EdgeRoutingOptions {
  now: number;
  heartbeatMs: number;
  maxLoadRatio: number;
  preferRelaying: boolean;
  /** Extra filter, e.g. "has a public address for the requested protocol". */
  eligible?: (node: ClusterNode) => boolean;
}

export const RouteReason = {
  /** The edge already pulls the stream: the viewer costs no new relay. */
  Relaying: 'relaying',
  /** Weighted rendezvous hashing over the candidates. */
  Hash: 'hash',
} as const;
export type RouteReason = (typeof RouteReason)[keyof typeof RouteReason];

export interface EdgeChoice {
  node: ClusterNode;
  reason: RouteReason;
  loadRatio: number;
}

/** Healthy, non-draining edges with room under `maxLoadRatio` (and at least one free connection). */
export function edgeCandidates(nodes: readonly ClusterNode[], o: EdgeRoutingOptions): ClusterNode[] {
  return nodes.filter(
    (n) =>
      n.role === NodeRole.Edge &&
      isHealthy(n, o.now, o.heartbeatMs) &&
      loadRatio(n) <= o.maxLoadRatio &&
      freeConnections(n) > 0 &&
      (o.eligible?.(n) ?? true),
  );
}

/**
 * 1. candidates = healthy, non-draining edges under the load ratio;
 * 2. among those already relaying the key, the least loaded;
 * 3. else weighted HRW over all candidates (weight = free connections);
 * 4. null when there is no candidate.
 */
export function pickEdge(
  key: string,
  nodes: readonly ClusterNode[],
  o: EdgeRoutingOptions,
): EdgeChoice | null {
  const candidates = edgeCandidates(nodes, o);
  if (o.preferRelaying) {
    const relaying = candidates.filter((n) => n.streams?.[key]?.relaying === true);
    const best = leastLoaded(relaying, loadRatio, key);
    if (best) return { node: best, reason: RouteReason.Relaying, loadRatio: loadRatio(best) };
  }
  const hashed = hrwPick(key, candidates, (n) => n.nodeId, freeConnections);
  return hashed ? { node: hashed, reason: RouteReason.Hash, loadRatio: loadRatio(hashed) } : null;
}

export interface OriginChoice {
  node: ClusterNode;
  /** True when the node owns the key now (the publisher must go there, others would refuse). */
  owner: boolean;
}

/**
 * Where a publisher of `key` should go: its current owner when there is one (null when the
 * owner has no live record, e.g. it died and the lease has not run out yet: any other origin
 * would refuse), else the least-loaded healthy non-draining origin with room.
 */
export function pickOrigin(
  key: string,
  owner: StreamOwner | null,
  nodes: readonly ClusterNode[],
  o: { now: number; heartbeatMs: number; eligible?: (node: ClusterNode) => boolean },
): OriginChoice | null {
  if (owner) {
    const n = nodes.find((x) => x.nodeId === owner.nodeId);
    return n ? { node: n, owner: true } : null;
  }
  const origins = nodes.filter(
    (n) =>
      n.role === NodeRole.Origin &&
      isHealthy(n, o.now, o.heartbeatMs) &&
      originLoadRatio(n) < 1 &&
      (o.eligible?.(n) ?? true),
  );
  const best = leastLoaded(origins, originLoadRatio, key);
  return best ? { node: best, owner: false } : null;
}

/** Lowest ratio; equal ratios are split by HRW on the key so equal origins share new streams. */
function leastLoaded(
  nodes: readonly ClusterNode[],
  ratio: (n: ClusterNode) => number,
  key: string,
): ClusterNode | null {
  let best: ClusterNode | null = null;
  let bestRatio = Infinity;
  let bestScore = -1;
  for (const n of nodes) {
    const r = ratio(n);
    const s = hrwScore(key, n.nodeId, 1);
    if (r < bestRatio || (r === bestRatio && s > bestScore)) {
      best = n;
      bestRatio = r;
      bestScore = s;
    }
  }
  return best;
}
