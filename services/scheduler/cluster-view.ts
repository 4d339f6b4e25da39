import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type {
  NodeHeartbeatEvent,
  NodeInfo,
  NodePresence,
  NodeStreamInfo,
  StreamOwner,
} from '../../libs/cluster/types.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { emptyPresence, newEntry, playMaskOf, type NodeEntry } from './node-entry.ts';
import { SortedKeys } from './sorted-keys.ts';

/** Memory bounds of the view; what is over them is counted (`scheduler_view_over_limit`) and left out. */
export interface ViewLimits {
  maxNodes: number;
  maxStreams: number;
  /** Presence entries per node. */
  maxStreamsPerNode: number;
}

/** A stream owner as last read from Redis. */
export interface OwnerEntry extends StreamOwner {
  /** View stamp of the read that produced it (reads that started earlier do not override it). */
  stamp: number;
  /** Monotonic ms of that read. */
  readAt: number;
}

export interface ClusterViewOptions {
  /** The nodes' heartbeat period: a node not heard from for twice this is unhealthy. */
  heartbeatMs: number;
  limits: ViewLimits;
  counters: Counters;
  log?: Logger;
  /** Monotonic clock (ms); performance.now by default. Never compared with another process's clock. */
  now?: () => number;
}

const WARN_EVERY_MS = 10_000;

/**
 * The scheduler's in-memory picture of the cluster (DESIGN "Scheduler view"): nodes (records
 * confirmed in Redis, liveness by this process's receive time), their per-stream presence with
 * an index of the edges relaying each key, and stream owners; node ids and stream keys are
 * kept sorted for paging. Everything that changes it goes through here, so the indexes cannot
 * drift from the maps. Feeding it (events, Redis reads) is the job of view-feed.ts,
 * presence-sync.ts and reconciler.ts.
 */
export class ClusterView {
  readonly heartbeatMs: number;
  readonly now: () => number;
  private readonly limits: ViewLimits;
  private readonly counters: Counters;
  private readonly log: Logger | undefined;
  private readonly nodeMap = new Map<string, NodeEntry>();
  private readonly nodeIds = new SortedKeys();
  private readonly ownerMap = new Map<string, OwnerEntry>();
  private readonly streamKeys = new SortedKeys();
  private readonly relayIndex = new Map<string, Set<NodeEntry>>();
  private stampCounter = 0;
  private eventsSince: number | null = null;
  private lastWarnAt = -Infinity;
  /** Bumped on every change of who may be a routing candidate (their cache rebuilds when it moves). */
  version = 0;
  /** Nodes whose load changed since the candidates last looked (consumed by candidates.ts). */
  readonly loadChanged = new Set<NodeEntry>();
  /** Generation of the last successful reconcile (0 before the first). */
  listedGen = 0;
  /** Told when a node leaves the view or another process takes its id (the session index drops its sessions). */
  onNodeGone: ((nodeId: string) => void) | null = null;

  constructor(o: ClusterViewOptions) {
    this.heartbeatMs = o.heartbeatMs;
    this.limits = o.limits;
    this.counters = o.counters;
    this.log = o.log;
    this.now = o.now ?? (() => performance.now());
  }

  /** Taken before a Redis read: the read's result loses against changes made by later reads. */
  nextStamp(): number {
    return ++this.stampCounter;
  }

  get nodeCount(): number {
    return this.nodeMap.size;
  }

  get streamCount(): number {
    return this.ownerMap.size;
  }

  /** Room for one more node (a check before reading a new node's record). */
  get hasRoomForNode(): boolean {
    return this.nodeMap.size < this.limits.maxNodes;
  }

  node(nodeId: string): NodeEntry | undefined {
    return this.nodeMap.get(nodeId);
  }

  nodes(): IterableIterator<NodeEntry> {
    return this.nodeMap.values();
  }

  owner(key: string): OwnerEntry | undefined {
    return this.ownerMap.get(key);
  }

  /** Nodes whose presence says they relay `key` (any health; routing filters). */
  relayingEdges(key: string): ReadonlySet<NodeEntry> | undefined {
    return this.relayIndex.get(key);
  }

  // ---- liveness ----

  /** Whether events reach the scheduler now (the bus is connected); heartbeats decide liveness only then. */
  setEventsFlowing(flowing: boolean): void {
    if (flowing === (this.eventsSince !== null)) return;
    this.eventsSince = flowing ? this.now() : null;
    this.version++;
  }

  get eventsFlowing(): boolean {
    return this.eventsSince !== null;
  }

  /**
   * Until when a node listed in the last reconcile counts as alive without a heartbeat: always
   * while no events flow (NATS down or not configured), and for two heartbeats after they start
   * (so a fresh replica, or one whose NATS just came back, does not drop every node at once).
   */
  fallbackUntil(): number {
    return this.eventsSince === null ? Infinity : this.eventsSince + 2 * this.heartbeatMs;
  }

  /** Not draining, and heard (heartbeat, or the last reconcile while heartbeats cannot tell) recently. */
  healthy(e: NodeEntry, now: number): boolean {
    if (e.info.draining === true) return false;
    if (now - e.heardAt <= 2 * this.heartbeatMs) return true;
    return this.listedGen > 0 && e.listedGen === this.listedGen && now < this.fallbackUntil();
  }

  // ---- nodes ----

  /** A record read from Redis. Another instance under the node id starts over (presence, liveness). */
  putNode(info: NodeInfo, stamp: number): NodeEntry | null {
    let e = this.nodeMap.get(info.nodeId);
    if (!e) {
      if (this.nodeMap.size >= this.limits.maxNodes) return this.over('nodes');
      e = newEntry(info, stamp);
      this.nodeMap.set(info.nodeId, e);
      this.nodeIds.add(info.nodeId);
    } else {
      if (e.info.instanceId !== info.instanceId) {
        this.counters.inc('scheduler_node_instance_changes');
        this.clearPresence(e);
        this.onNodeGone?.(e.nodeId);
        e.heardAt = -Infinity;
      } else if (e.loadStamp > stamp) {
        // A heartbeat came after this read began: its load and draining flag are the newer ones.
        info = { ...info, load: e.info.load, draining: e.info.draining };
      }
      e.info = info;
      e.playMask = playMaskOf(info);
      e.stamp = Math.max(e.stamp, stamp);
    }
    this.version++;
    return e;
  }

  /** A heartbeat of the confirmed process: load, draining and receive time. */
  heartbeat(e: NodeEntry, hb: NodeHeartbeatEvent, at: number): void {
    // Most heartbeats only move a node's load: those are handed to the candidates one by one
    // (loadChanged); a node coming back to life or (un)draining changes the candidate sets.
    const membership = !this.healthy(e, at) || e.info.draining !== hb.draining;
    e.info.load = hb.load;
    e.info.draining = hb.draining;
    // The node's own clock: shown to operators, never compared with ours.
    e.info.updatedAt = hb.ts;
    e.heardAt = at;
    e.loadStamp = this.nextStamp();
    if (membership) this.version++;
    else this.loadChanged.add(e);
  }

  dropNode(nodeId: string): void {
    const e = this.nodeMap.get(nodeId);
    if (!e) return;
    this.clearPresence(e);
    this.loadChanged.delete(e);
    this.nodeMap.delete(nodeId);
    this.nodeIds.delete(nodeId);
    this.version++;
    this.onNodeGone?.(nodeId);
  }

  /**
   * The nodes listed by Redis now: added or updated, marked as listed in this generation; nodes
   * missing from the list (their record lapsed) are dropped unless a later read confirmed them.
   */
  applyNodes(records: readonly NodeInfo[], stamp: number): NodeEntry[] {
    const gen = this.listedGen + 1;
    const listed: NodeEntry[] = [];
    for (const r of records) {
      if (!plausibleRecord(r)) {
        this.counters.inc('scheduler_records_invalid');
        continue;
      }
      const cur = this.nodeMap.get(r.nodeId);
      // Another process was confirmed after this read began: the list is the older news.
      const e =
        cur && cur.stamp > stamp && cur.info.instanceId !== r.instanceId ? cur : this.putNode(r, stamp);
      if (!e) continue;
      e.listedGen = gen;
      listed.push(e);
    }
    for (const e of [...this.nodeMap.values()]) {
      if (e.listedGen !== gen && e.stamp < stamp) this.dropNode(e.nodeId);
    }
    this.listedGen = gen;
    this.version++;
    return listed;
  }

  /**
   * A light reconcile: the node ids Redis lists now (its index, not the records). Known nodes
   * count as listed in this generation, nodes missing from the list are dropped (unless a later
   * read confirmed them); returns the ids the view does not know, to be read in full.
   */
  applyNodeIds(ids: readonly string[], stamp: number): string[] {
    const gen = this.listedGen + 1;
    const unknown: string[] = [];
    for (const id of ids) {
      const e = this.nodeMap.get(id);
      if (e) e.listedGen = gen;
      else unknown.push(id);
    }
    for (const e of [...this.nodeMap.values()]) {
      if (e.listedGen !== gen && e.stamp < stamp) this.dropNode(e.nodeId);
    }
    this.listedGen = gen;
    this.version++;
    return unknown;
  }

  /** A node read in full during a light reconcile: put, and listed in the current generation. */
  addListedNode(info: NodeInfo, stamp: number): NodeEntry | null {
    const e = this.putNode(info, stamp);
    if (e) e.listedGen = this.listedGen;
    return e;
  }

  // ---- presence ----

  /** One presence change: an entry, or null when the node no longer serves the key. */
  setStream(e: NodeEntry, key: string, info: NodeStreamInfo | null): void {
    const map = e.presence.streams;
    const old = map.get(key);
    if (info === null) {
      if (!old) return;
      map.delete(key);
      if (old.relaying) this.unindex(key, e);
      return;
    }
    if (!old && map.size >= this.limits.maxStreamsPerNode) {
      this.over('presence');
      return;
    }
    map.set(key, info);
    if (info.relaying && !old?.relaying) this.index(key, e);
    else if (!info.relaying && old?.relaying) this.unindex(key, e);
  }

  /** Replaces a node's presence with a record read from Redis. */
  replacePresence(e: NodeEntry, p: NodePresence): void {
    for (const key of e.presence.streams.keys()) {
      if (!Object.hasOwn(p.streams, key)) this.setStream(e, key, null);
    }
    for (const [key, info] of Object.entries(p.streams)) this.setStream(e, key, info);
    e.presence.instanceId = p.instanceId;
    e.presence.seq = p.seq;
  }

  clearPresence(e: NodeEntry): void {
    for (const [key, info] of e.presence.streams) if (info.relaying) this.unindex(key, e);
    e.presence = emptyPresence();
  }

  private index(key: string, e: NodeEntry): void {
    let set = this.relayIndex.get(key);
    if (!set) this.relayIndex.set(key, (set = new Set()));
    set.add(e);
  }

  private unindex(key: string, e: NodeEntry): void {
    const set = this.relayIndex.get(key);
    if (!set) return;
    set.delete(e);
    if (set.size === 0) this.relayIndex.delete(key);
  }

  // ---- owners ----

  /**
   * An owner read from Redis after an event or for a request: the view moves only to a higher
   * epoch (or the same claim, re-read), and to "no owner" only when this read began after the
   * entry's. A forged or replayed event therefore changes nothing: Redis answers what it holds.
   */
  confirmOwner(key: string, o: StreamOwner | null, stamp: number, readAt: number): void {
    const cur = this.ownerMap.get(key);
    if (o === null) {
      if (cur && cur.stamp < stamp) this.removeOwner(key);
      return;
    }
    if (cur && (o.epoch < cur.epoch || (o.epoch === cur.epoch && cur.stamp > stamp))) return;
    this.setOwner(o, stamp, readAt, cur);
  }

  /**
   * Every live claim, as listed by Redis now: the truth, whatever the epochs (what Redis holds
   * after losing writes may be older than what events showed), except for keys that a read
   * begun later has changed already.
   */
  applyOwners(owners: readonly StreamOwner[], stamp: number, readAt: number): void {
    const seen = new Set<string>();
    for (const o of owners) {
      seen.add(o.key);
      const cur = this.ownerMap.get(o.key);
      if (cur && cur.stamp > stamp) continue;
      this.setOwner(o, stamp, readAt, cur);
    }
    for (const [key, cur] of this.ownerMap) {
      if (!seen.has(key) && cur.stamp < stamp) this.removeOwner(key);
    }
  }

  /** One claim read during a light reconcile: the truth, as in applyOwners, for this key alone. */
  reconcileOwner(key: string, o: StreamOwner | null, stamp: number, readAt: number): void {
    const cur = this.ownerMap.get(key);
    if (cur && cur.stamp > stamp) return;
    if (o === null) {
      if (cur) this.removeOwner(key);
      return;
    }
    this.setOwner(o, stamp, readAt, cur);
  }

  /** Keys the view has an owner for, with that owner's epoch. */
  ownerEpochs(): IterableIterator<[string, number]> {
    return (function* (m: Map<string, OwnerEntry>) {
      for (const [k, o] of m) yield [k, o.epoch] as [string, number];
    })(this.ownerMap);
  }

  private setOwner(o: StreamOwner, stamp: number, readAt: number, cur: OwnerEntry | undefined): void {
    if (!cur && this.ownerMap.size >= this.limits.maxStreams) {
      this.over('streams');
      return;
    }
    this.ownerMap.set(o.key, { ...o, stamp, readAt });
    if (!cur) this.streamKeys.add(o.key);
  }

  private removeOwner(key: string): void {
    if (this.ownerMap.delete(key)) this.streamKeys.delete(key);
  }

  // ---- listings ----

  /** Up to `limit` node ids after `after`, in order (one extra tells whether more follow). */
  nodeIdsAfter(after: string | null, limit: number): string[] {
    return this.nodeIds.page(after, limit);
  }

  streamKeysAfter(after: string | null, limit: number): string[] {
    return this.streamKeys.page(after, limit);
  }

  private over(what: 'nodes' | 'streams' | 'presence'): null {
    this.counters.inc('scheduler_view_over_limit', 1, { what });
    const now = this.now();
    if (now - this.lastWarnAt >= WARN_EVERY_MS) {
      this.lastWarnAt = now;
      this.log?.warn({ what, limits: this.limits }, 'scheduler view is full: entries left out');
    }
    return null;
  }
}

/** The fields the view indexes by; a record without them (corrupt, foreign) is skipped. */
function plausibleRecord(r: NodeInfo): boolean {
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.nodeId === 'string' &&
    r.nodeId.length > 0 &&
    typeof r.instanceId === 'string' &&
    typeof r.role === 'string'
  );
}
