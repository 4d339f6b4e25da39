import type {
  NodeHeartbeatEvent,
  NodeInfo,
  NodePresenceEvent,
  NodeStreamInfo,
} from '../../libs/cluster/types.ts';
import { seedOf, type HrwSeed } from './hrw.ts';
import { PlayProtocol, playUrl } from './urls.ts';

/** Bit of a protocol in NodeEntry.playMask. */
export const PROTOCOL_BIT: Readonly<Record<PlayProtocol, number>> = {
  [PlayProtocol.Rtmp]: 1,
  [PlayProtocol.Flv]: 2,
  [PlayProtocol.WsFlv]: 4,
  [PlayProtocol.Ts]: 8,
  [PlayProtocol.Hls]: 16,
  [PlayProtocol.Rtsp]: 32,
};
const ALL_PROTOCOLS = Object.values(PlayProtocol);

/** What the view knows of one node's streams (NodePresence as applied so far). */
export interface PresenceState {
  /** Process whose presence this is ('' = none loaded yet, or the record belongs to another process). */
  instanceId: string;
  /** Last change applied. */
  seq: number;
  streams: Map<string, NodeStreamInfo>;
  /** Changes that arrived after a gap, replayed once a reload filled it (bounded). */
  pending: NodePresenceEvent[];
}

/**
 * One node in the scheduler's view. `info` is the record confirmed in Redis (identity,
 * addresses, protocols); heartbeats of that very process refresh only its load, draining flag
 * and `heardAt`.
 */
export interface NodeEntry {
  readonly nodeId: string;
  /** HRW seed of the node id, hashed once. */
  readonly seed: HrwSeed;
  info: NodeInfo;
  /** Monotonic ms (the scheduler's clock) of the last heartbeat of info.instanceId; -Infinity when none. */
  heardAt: number;
  /** Generation of the last Redis reconcile that listed the record. */
  listedGen: number;
  /** View stamp of the last confirmed change: a reconcile whose read started earlier does not undo it. */
  stamp: number;
  /** View stamp of the last heartbeat applied (its load beats a record read that began earlier). */
  loadStamp: number;
  /** Protocols the node says it serves and has a public address for (PROTOCOL_BIT). */
  playMask: number;
  presence: PresenceState;
  /** Set by each rebuild of the routing candidates (candidates.ts): protocols it is a candidate for, and its load then. */
  candMask: number;
  candRatio: number;
  /** Position in each protocol's candidate list (by PROTOCOL_INDEX), for load updates in place. */
  candIdx: Int32Array;
}

export function newEntry(info: NodeInfo, stamp: number): NodeEntry {
  return {
    nodeId: info.nodeId,
    seed: seedOf(info.nodeId),
    info,
    heardAt: -Infinity,
    listedGen: 0,
    stamp,
    loadStamp: 0,
    playMask: playMaskOf(info),
    presence: emptyPresence(),
    candMask: 0,
    candRatio: Infinity,
    candIdx: new Int32Array(ALL_PROTOCOLS.length),
  };
}

export function emptyPresence(): PresenceState {
  return { instanceId: '', seq: 0, streams: new Map(), pending: [] };
}

/** Protocols listed in `protocols` that also have an address to build the play URL from. */
export function playMaskOf(info: NodeInfo): number {
  const listed = Array.isArray(info.protocols) ? info.protocols : [];
  let mask = 0;
  for (const p of ALL_PROTOCOLS) {
    if (listed.includes(p) && playUrl(p, info.public ?? {}, 'a/b') !== null) mask |= PROTOCOL_BIT[p];
  }
  return mask;
}

/** The heartbeat describes the same node as the confirmed record (only load and draining may differ). */
export function sameIdentity(info: NodeInfo, hb: NodeHeartbeatEvent): boolean {
  return (
    info.instanceId === hb.instanceId &&
    info.role === hb.role &&
    sameAddresses(info.public, hb.public) &&
    sameAddresses(info.internal, hb.internal) &&
    sameList(info.protocols, hb.protocols)
  );
}

function sameAddresses(a: NodeInfo['public'] | undefined, b: NodeInfo['public']): boolean {
  return a?.rtmp === b.rtmp && a?.http === b.http && a?.api === b.api;
}

function sameList(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (!Array.isArray(a) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
