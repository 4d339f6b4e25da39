import type { SessionKind, SessionStartedEvent, SessionStoppedEvent } from '../../libs/cluster/types.ts';
import type { Counters } from '../../libs/metrics/counters.ts';

/** One live session somewhere in the cluster, as its node announced it. */
export interface ClusterSession {
  nodeId: string;
  instanceId: string;
  sessionId: string;
  kind: SessionKind;
  protocol: string;
  key: string;
  remote: string;
  /** The node's clock (ms since the epoch) when it started: shown, never compared with ours. */
  startedAt: number;
}

export interface SessionIndexOptions {
  /** Sessions held at most (whole cluster); more are counted and left out. */
  maxSessions: number;
  counters: Counters;
}

/**
 * The cluster's live sessions for the HTTP API, fed by session.started/stopped events of nodes
 * the view knows: per node (so a dead or restarted node's sessions go at once) and per stream
 * key (so a group costs O(its sessions)). Bounded by maxSessions. A scheduler started after a
 * session began does not know it (events are not replayed).
 */
export class SessionIndex {
  private readonly o: SessionIndexOptions;
  /** nodeId -> sessionId -> session. */
  private readonly byNode = new Map<string, Map<string, ClusterSession>>();
  private readonly byKey = new Map<string, Set<ClusterSession>>();
  private count = 0;

  constructor(o: SessionIndexOptions) {
    this.o = o;
  }

  get size(): number {
    return this.count;
  }

  started(e: SessionStartedEvent): void {
    let node = this.byNode.get(e.nodeId);
    const first = node?.values().next().value;
    // Another process under this node id: what the old one ran is gone.
    if (first && first.instanceId !== e.instanceId) {
      this.dropNode(e.nodeId);
      node = undefined;
    }
    if (node?.has(e.sessionId)) return;
    if (this.count >= this.o.maxSessions) {
      this.o.counters.inc('scheduler_view_over_limit', 1, { what: 'sessions' });
      return;
    }
    if (!node) this.byNode.set(e.nodeId, (node = new Map<string, ClusterSession>()));
    const s: ClusterSession = {
      nodeId: e.nodeId,
      instanceId: e.instanceId,
      sessionId: e.sessionId,
      kind: e.kind,
      protocol: e.protocol,
      key: e.key,
      remote: e.remote,
      startedAt: e.ts,
    };
    node.set(e.sessionId, s);
    let set = this.byKey.get(e.key);
    if (!set) this.byKey.set(e.key, (set = new Set()));
    set.add(s);
    this.count++;
  }

  stopped(e: Pick<SessionStoppedEvent, 'nodeId' | 'instanceId' | 'sessionId'>): void {
    const s = this.byNode.get(e.nodeId)?.get(e.sessionId);
    if (s && s.instanceId === e.instanceId) this.remove(s);
  }

  /** The node left the view (its record lapsed) or restarted: its sessions with it. */
  dropNode(nodeId: string): void {
    const node = this.byNode.get(nodeId);
    if (!node) return;
    for (const s of [...node.values()]) this.remove(s);
  }

  /** Sessions of a stream key, on every node. */
  ofKey(key: string): ClusterSession[] {
    return [...(this.byKey.get(key) ?? [])];
  }

  /** Every session; O(n). */
  all(): ClusterSession[] {
    const out: ClusterSession[] = [];
    for (const node of this.byNode.values()) out.push(...node.values());
    return out;
  }

  /** A session by id (ids are random per node; the first match wins should two nodes share one). */
  find(sessionId: string): ClusterSession | undefined {
    for (const node of this.byNode.values()) {
      const s = node.get(sessionId);
      if (s) return s;
    }
    return undefined;
  }

  private remove(s: ClusterSession): void {
    const node = this.byNode.get(s.nodeId);
    if (!node?.delete(s.sessionId)) return;
    if (node.size === 0) this.byNode.delete(s.nodeId);
    const set = this.byKey.get(s.key);
    set?.delete(s);
    if (set?.size === 0) this.byKey.delete(s.key);
    this.count--;
  }
}
