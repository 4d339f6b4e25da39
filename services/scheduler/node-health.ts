import type { NodeInfo } from '../../libs/cluster/types.ts';

/**
 * Capacity of a node as the scheduler weighs it. Records come from other processes through
 * Redis, so nothing here trusts their shape: a record with missing or non-numeric load is
 * treated as unusable instead of producing NaN scores. (Liveness is not judged here: it is the
 * scheduler's own receive time, see cluster-view.ts.)
 */

/** Connections in use that count against an edge's capacity: its viewers and its relay pulls. */
export function usedConnections(node: NodeInfo): number {
  const l = node.load as Partial<NodeInfo['load']> | undefined;
  const used = num(l?.players) + num(l?.relays);
  return Number.isFinite(used) ? used : Infinity;
}

/** (players + relays) / maxConnections; Infinity when the node reports no usable capacity. */
export function loadRatio(node: NodeInfo): number {
  const max = num(node.load?.maxConnections);
  if (!(max > 0)) return Infinity;
  return usedConnections(node) / max;
}

/** Connections the node can still take (0 when full or unknown). */
export function freeConnections(node: NodeInfo): number {
  const max = num(node.load?.maxConnections);
  if (!(max > 0)) return 0;
  const free = max - usedConnections(node);
  return free > 0 ? free : 0;
}

/** An origin's load counts its publishers too (they are its main work). */
export function originLoadRatio(node: NodeInfo): number {
  const max = num(node.load?.maxConnections);
  if (!(max > 0)) return Infinity;
  const used = usedConnections(node) + num(node.load?.publishers);
  return Number.isFinite(used) ? used / max : Infinity;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : v === undefined ? 0 : NaN;
}
