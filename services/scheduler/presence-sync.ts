import type { NodePresenceEvent, StreamRegistry } from '../../libs/cluster/types.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { ClusterView } from './cluster-view.ts';
import type { NodeEntry } from './node-entry.ts';
import type { TaskQueue } from './task-queue.ts';

/** Presence changes held after a gap until a reload fills it; more are dropped (the reload has them). */
const MAX_PENDING = 16;

export type PresenceSource = Pick<StreamRegistry, 'getPresence'>;

/**
 * Keeps each node's presence in the view in step with its agent (services/node/cluster-agent.ts):
 * numbered changes from NATS are applied in order, per process; anything that shows a change
 * was missed (a seq jump, a heartbeat whose presenceSeq is ahead, presence of another process
 * under the node id) reloads that node's record from Redis, through the task queue, so each
 * event costs at most its own entries plus one coalesced read.
 */
export class PresenceSync {
  private readonly view: ClusterView;
  private readonly registry: PresenceSource;
  private readonly counters: Counters;
  private readonly queue: TaskQueue;

  constructor(o: { view: ClusterView; registry: PresenceSource; counters: Counters; queue: TaskQueue }) {
    this.view = o.view;
    this.registry = o.registry;
    this.counters = o.counters;
    this.queue = o.queue;
  }

  /** A presence event of a known node (`e.nodeId === entry.nodeId`). */
  onEvent(entry: NodeEntry, e: NodePresenceEvent): void {
    if (e.instanceId !== entry.info.instanceId) {
      // Not the process the view confirmed: a restart (its heartbeat will confirm it) or a forgery.
      this.counters.inc('scheduler_presence_ignored', 1, { why: 'instance' });
      return;
    }
    const p = entry.presence;
    if (p.instanceId === e.instanceId && e.seq <= p.seq) {
      this.counters.inc('scheduler_presence_ignored', 1, { why: 'old' });
      return;
    }
    if (p.instanceId === e.instanceId && e.seq === p.seq + 1) {
      this.apply(entry, e);
      this.drainPending(entry);
      return;
    }
    this.counters.inc('scheduler_presence_gaps');
    if (p.pending.length < MAX_PENDING) p.pending.push(e);
    this.reload(entry.nodeId);
  }

  /** A heartbeat of the confirmed process says its last change is `presenceSeq`. */
  onHeartbeat(entry: NodeEntry, presenceSeq: number): void {
    const p = entry.presence;
    if (p.instanceId !== entry.info.instanceId || presenceSeq > p.seq) {
      if (p.instanceId === entry.info.instanceId) this.counters.inc('scheduler_presence_gaps');
      this.reload(entry.nodeId);
    }
  }

  /** Reloads the node's presence from Redis soon (coalesced per node). */
  reload(nodeId: string): void {
    this.queue.request(`presence:${nodeId}`, () => this.load(nodeId));
  }

  /** Reads the node's presence record now and applies it. Rejects when Redis does. */
  async load(nodeId: string): Promise<void> {
    const p = await this.registry.getPresence(nodeId);
    const entry = this.view.node(nodeId);
    if (!entry) return;
    const mine = entry.info.instanceId;
    if (p === null) {
      // No record (none written yet, or it lapsed): the node serves nothing we know of.
      if (entry.presence.instanceId !== mine) {
        this.view.replacePresence(entry, { nodeId, instanceId: mine, seq: 0, streams: {} });
      }
    } else if (p.instanceId !== mine) {
      // Another process's streams (two processes share the node id, or one is restarting).
      this.counters.inc('scheduler_presence_ignored', 1, { why: 'record-instance' });
      this.view.clearPresence(entry);
    } else if (entry.presence.instanceId !== mine || entry.presence.seq <= p.seq) {
      const pending = entry.presence.pending;
      this.view.replacePresence(entry, p);
      entry.presence.pending = pending;
    }
    this.drainPending(entry);
  }

  private apply(entry: NodeEntry, e: NodePresenceEvent): void {
    for (const [key, info] of Object.entries(e.streams)) this.view.setStream(entry, key, info);
    entry.presence.seq = e.seq;
  }

  /** Applies held changes that follow on now; drops those already covered. */
  private drainPending(entry: NodeEntry): void {
    const p = entry.presence;
    if (p.pending.length === 0) return;
    p.pending.sort((a, b) => a.seq - b.seq);
    const rest = [];
    for (const e of p.pending) {
      if (e.instanceId !== p.instanceId || e.seq <= p.seq) continue;
      if (e.seq === p.seq + 1) this.apply(entry, e);
      else rest.push(e);
    }
    p.pending = rest;
  }
}
