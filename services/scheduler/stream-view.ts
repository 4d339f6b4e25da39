import type { ClusterNode } from './registry-cache.ts';
import { NodeRole, type StreamMediaInfo, type StreamOwner } from '../../libs/cluster/types.ts';
import { ownerUrls, type OwnerUrls } from './urls.ts';

/** One stream as the scheduler reports it: who owns it, what it carries, which edges serve it. */
export interface StreamView {
  key: string;
  owner: {
    nodeId: string;
    epoch: number;
    since: number;
    /** Lease left, by the registry's clock. */
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

export function streamView(owner: StreamOwner, nodes: readonly ClusterNode[]): StreamView {
  const ownerNode = nodes.find((n) => n.nodeId === owner.nodeId);
  const edges = nodes
    .filter((n) => n.role === NodeRole.Edge && n.streams?.[owner.key]?.relaying === true)
    .map((n) => ({ nodeId: n.nodeId, viewers: count(n.streams[owner.key]?.viewers) }))
    .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  return {
    key: owner.key,
    owner: {
      nodeId: owner.nodeId,
      epoch: owner.epoch,
      since: owner.since,
      ttlMs: owner.ttlMs,
      viewers: count(ownerNode?.streams?.[owner.key]?.viewers),
      urls: ownerNode ? ownerUrls(ownerNode.public ?? {}, ownerNode.internal ?? {}, owner.key) : {},
    },
    media: owner.media,
    edges,
  };
}

/** All streams, sorted by key so every replica lists them in the same order. */
export function streamViews(owners: readonly StreamOwner[], nodes: readonly ClusterNode[]): StreamView[] {
  return [...owners]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((o) => streamView(o, nodes));
}

function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}
