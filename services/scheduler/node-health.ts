import type { NodeInfo } from '../../libs/cluster/types.ts';

/**
 * How the scheduler judges a registered node. Records come from other processes through
 * Redis, so nothing here trusts their shape: a record with missing or non-numeric load is
 * treated as unusable instead of producing NaN scores.
 */

/** Heard from within two heartbeats (one may be late) and not draining. */
export function isHealthy(node: NodeInfo, now: number, heartbeatMs: number): boolean {
  return node.draining !== true && isFresh(node, now, heartbeatMs);
}

/** `updatedAt` within 2x the heartbeat. A clock ahead of ours counts as fresh. */
export function isFresh(node: NodeInfo, now: number, heartbeatMs: number): boolean {
  return Number.isFinite(node.updatedAt) && now - node.updatedAt <= 2 * heartbeatMs;
}

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
