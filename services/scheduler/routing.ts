import type { PlayProtocol, StreamOwner } from '../../libs/cluster/types.ts';
import { Candidates } from './candidates.ts';
import type { ClusterView } from './cluster-view.ts';
import { seededScore, seedOf, type HrwSeed } from './hrw.ts';
import type { NodeEntry } from './node-entry.ts';

/**
 * The scheduler's choices (DESIGN.md "Cluster contract", Scheduler): functions of the view's
 * candidates and the key only, so two replicas with the same view give the same answer
 * whatever order they learned things in.
 */

export const RouteReason = {
  /** The edge already pulls the stream: the viewer costs no new relay. */
  Relaying: 'relaying',
  /** Weighted rendezvous hashing over the candidates. */
  Hash: 'hash',
} as const;
export type RouteReason = (typeof RouteReason)[keyof typeof RouteReason];

export interface EdgeChoice {
  node: NodeEntry;
  reason: RouteReason;
  loadRatio: number;
}

/**
 * 1. candidates = healthy, non-draining edges under the load ratio that serve `protocol`;
 * 2. among those already relaying the key, the least loaded (ties by HRW, then id);
 * 3. else weighted HRW over all candidates (weight = free connections);
 * 4. null when there is no candidate.
 */
export function pickEdge(
  view: ClusterView,
  candidates: Candidates,
  key: string,
  protocol: PlayProtocol,
  o: { now: number; preferRelaying: boolean },
): EdgeChoice | null {
  const list = candidates.edgesFor(protocol, o.now);
  if (list.entries.length === 0) return null;
  const ks = seedOf(key);
  if (o.preferRelaying) {
    const relaying = view.relayingEdges(key);
    if (relaying) {
      const best = leastLoaded(relaying, ks, (e) => Candidates.isCandidate(e, protocol));
      if (best) return { node: best, reason: RouteReason.Relaying, loadRatio: best.candRatio };
    }
  }
  const { entries, weights } = list;
  let best = -1;
  let bestScore = -1;
  for (let i = 0; i < entries.length; i++) {
    const s = seededScore(ks, entries[i]!.seed, weights[i]!);
    if (s > bestScore || (s === bestScore && entries[i]!.nodeId < entries[best]!.nodeId)) {
      best = i;
      bestScore = s;
    }
  }
  const node = entries[best]!;
  return { node, reason: RouteReason.Hash, loadRatio: node.candRatio };
}

export interface OriginChoice {
  node: NodeEntry;
  /** True when the node owns the key now (the publisher must go there, others would refuse). */
  owner: boolean;
}

/**
 * Where a publisher of `key` should go: its current owner when there is one (null when the
 * owning process has no live record, e.g. it died and its lease has not run out yet: any other
 * origin would refuse), else the least-loaded healthy non-draining origin with room.
 */
export function pickOrigin(
  view: ClusterView,
  candidates: Candidates,
  key: string,
  owner: StreamOwner | null,
  now: number,
): OriginChoice | null {
  if (owner) {
    const n = view.node(owner.nodeId);
    return n && n.info.instanceId === owner.instanceId ? { node: n, owner: true } : null;
  }
  const best = leastLoaded(candidates.origins(now), seedOf(key), () => true);
  return best ? { node: best, owner: false } : null;
}

/** Lowest candRatio; equal ratios are split by HRW on the key (then id) so equal nodes share keys. */
function leastLoaded(
  nodes: Iterable<NodeEntry>,
  key: HrwSeed,
  usable: (e: NodeEntry) => boolean,
): NodeEntry | null {
  let best: NodeEntry | null = null;
  let bestScore = -1;
  for (const n of nodes) {
    if (!usable(n)) continue;
    const s = seededScore(key, n.seed, 1);
    if (
      !best ||
      n.candRatio < best.candRatio ||
      (n.candRatio === best.candRatio && (s > bestScore || (s === bestScore && n.nodeId < best.nodeId)))
    ) {
      best = n;
      bestScore = s;
    }
  }
  return best;
}
