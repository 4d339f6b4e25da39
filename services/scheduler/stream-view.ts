import { NodeRole, type NodeInfo, type StreamMediaInfo, type StreamOwner } from '../../libs/cluster/types.ts';
import type { ClusterView } from './cluster-view.ts';
import type { NodeEntry } from './node-entry.ts';
import { ownerUrls, type OwnerUrls } from './urls.ts';

/** One stream as the scheduler reports it: who owns it, what it carries, which edges serve it. */
export interface StreamView {
  key: string;
  owner: {
    nodeId: string;
    epoch: number;
    since: number;
    /** Lease left when the scheduler last read the claim from Redis (by Redis's clock). */
    ttlMs: number;
    /** Viewers the owner itself reports for the stream (as it counts them; may include relay pulls). */
    viewers: number;
    /** Empty when the owner has no live node record (it may be dying; its lease will tell). */
    urls: OwnerUrls;
  };
  media: StreamMediaInfo;
  /** Edges relaying the stream now, by node id. */
  edges: { nodeId: string; viewers: number }[];
}

/** Costs O(edges relaying the key): the relaying index is kept per key. */
export function streamView(owner: StreamOwner, view: ClusterView): StreamView {
  const ownerNode = view.node(owner.nodeId);
  const edges: { nodeId: string; viewers: number }[] = [];
  for (const e of view.relayingEdges(owner.key) ?? []) {
    if (e.info.role !== NodeRole.Edge) continue;
    edges.push({ nodeId: e.nodeId, viewers: count(e.presence.streams.get(owner.key)?.viewers) });
  }
  edges.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  return {
    key: owner.key,
    owner: {
      nodeId: owner.nodeId,
      epoch: owner.epoch,
      since: owner.since,
      ttlMs: owner.ttlMs,
      viewers: count(ownerNode?.presence.streams.get(owner.key)?.viewers),
      urls: ownerNode ? ownerUrls(ownerNode.info.public ?? {}, ownerNode.info.internal ?? {}, owner.key) : {},
    },
    media: owner.media,
    edges,
  };
}

/** A node as /api/v1/nodes lists it: its record, health by receive time, and how many streams it serves. */
export type NodeView = NodeInfo & {
  healthy: boolean;
  /** ms since its last heartbeat reached this scheduler; null when none has (yet). */
  heardMsAgo: number | null;
  streamCount: number;
};

export function nodeView(e: NodeEntry, view: ClusterView, now: number): NodeView {
  return {
    ...e.info,
    healthy: view.healthy(e, now),
    heardMsAgo: Number.isFinite(e.heardAt) ? Math.max(0, Math.round(now - e.heardAt)) : null,
    streamCount: e.presence.streams.size,
  };
}

function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}
