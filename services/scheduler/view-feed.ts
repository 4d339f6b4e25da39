import type { Logger } from 'pino';
import {
  NodeRole,
  Subject,
  type EventBus,
  type NodeHeartbeatEvent,
  type RelayStartedEvent,
  type SessionStartedEvent,
  type StreamPublishedEvent,
  type StreamRegistry,
  type StreamUnpublishedEvent,
} from '../../libs/cluster/types.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { ClusterView } from './cluster-view.ts';
import { sameIdentity } from './node-entry.ts';
import type { PresenceSync } from './presence-sync.ts';
import type { SessionIndex } from './session-index.ts';
import type { TaskQueue } from './task-queue.ts';

/** The slice of the bus the scheduler uses: it listens, never publishes. */
export type EventSource = Pick<EventBus, 'subscribe' | 'connected'>;
export type FeedRegistry = Pick<StreamRegistry, 'lookup' | 'getNode'>;

/** How often the bus's connection state is looked at (it decides how liveness is judged). */
const BUS_CHECK_MS = 250;
/** A node's first heartbeat is sent just before its record is written: read it again this often, this many times. */
const CONFIRM_RETRY_MS = 200;
const CONFIRM_ATTEMPTS = 3;

export interface ViewFeedOptions {
  view: ClusterView;
  bus: EventSource;
  registry: FeedRegistry;
  presence: PresenceSync;
  /** Owner confirmations and node-record checks (separate from presence reloads so neither starves the other). */
  queue: TaskQueue;
  counters: Counters;
  log: Logger;
  /** Live sessions for the HTTP API (fed by session events); absent: not kept. */
  sessions?: SessionIndex;
  /** Called when events flow again after the bus was disconnected (what was sent meanwhile is lost). */
  onResume?: () => void;
}

/**
 * Applies NATS events to the view. Events are hints, since any NATS client can publish them:
 * what changes where viewers are sent is confirmed in Redis first. A heartbeat counts only for
 * the process whose record Redis holds (a new node or process is looked up once); a stream
 * event only makes the view re-read that key's owner, and only when its epoch could be news;
 * presence changes are numbered per process and gaps are reloaded (presence-sync.ts).
 * Liveness is the receive time on this process's monotonic clock; event timestamps (`ts`,
 * another machine's clock) are never used.
 */
export class ViewFeed {
  private readonly o: ViewFeedOptions;
  private readonly offs: (() => void)[] = [];
  private busTimer: NodeJS.Timeout | null = null;

  constructor(o: ViewFeedOptions) {
    this.o = o;
  }

  start(): void {
    const { bus } = this.o;
    this.offs.push(
      bus.subscribe(Subject.NodeHeartbeat, (e) => this.onHeartbeat(e)),
      bus.subscribe(Subject.NodePresence, (e) => {
        this.count(Subject.NodePresence);
        const entry = this.o.view.node(e.nodeId);
        if (entry) this.o.presence.onEvent(entry, e);
        else this.ignored(Subject.NodePresence, 'unknown-node');
      }),
      bus.subscribe(Subject.StreamPublished, (e) => this.onPublished(e)),
      bus.subscribe(Subject.StreamUnpublished, (e) => this.onUnpublished(e)),
      bus.subscribe(Subject.RelayStarted, (e) => this.onRelay(Subject.RelayStarted, e, true)),
      bus.subscribe(Subject.RelayStopped, (e) => this.onRelay(Subject.RelayStopped, e, false)),
      bus.subscribe(Subject.SessionStarted, (e) => this.onSession(Subject.SessionStarted, e, true)),
      bus.subscribe(Subject.SessionStopped, (e) => this.onSession(Subject.SessionStopped, e, false)),
    );
    let was = bus.connected;
    let ever = was;
    const check = (): void => {
      const now = bus.connected;
      this.o.view.setEventsFlowing(now);
      if (now && !was && !ever) {
        this.o.log.info('NATS events flowing; node liveness follows heartbeats');
      } else if (now && !was) {
        this.o.log.info('NATS events flow again; re-reading the cluster from Redis');
        this.o.onResume?.();
      } else if (!now && was) {
        this.o.log.warn('NATS events stopped; node liveness falls back to Redis reconciles');
      }
      was = now;
      ever ||= now;
    };
    this.o.view.setEventsFlowing(was);
    this.busTimer = setInterval(check, BUS_CHECK_MS);
    this.busTimer.unref();
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
    if (this.busTimer) clearInterval(this.busTimer);
    this.busTimer = null;
  }

  private onHeartbeat(e: NodeHeartbeatEvent): void {
    this.count(Subject.NodeHeartbeat);
    const { view } = this.o;
    const at = view.now();
    const entry = view.node(e.nodeId);
    if (!entry || entry.info.instanceId !== e.instanceId) {
      if (entry || view.hasRoomForNode) this.confirmNode(e.nodeId, e.instanceId, at);
      else this.ignored(Subject.NodeHeartbeat, 'view-full');
      return;
    }
    // The confirmed process: its liveness and load count at once; anything else it now says
    // about itself (addresses, role, protocols) waits for its record in Redis.
    view.heartbeat(entry, e, at);
    if (!sameIdentity(entry.info, e)) this.confirmNode(e.nodeId, e.instanceId, at);
    this.o.presence.onHeartbeat(entry, e.presenceSeq);
  }

  /** Reads the node's record; it enters (or replaces) the view only if Redis holds this very process. */
  private confirmNode(nodeId: string, instanceId: string, heardAt: number): void {
    const { view, registry, presence, counters } = this.o;
    this.o.queue.request(`node:${nodeId}`, async () => {
      for (let attempt = 1; ; attempt++) {
        const stamp = view.nextStamp();
        const rec = await registry.getNode(nodeId);
        if (rec && rec.instanceId === instanceId) {
          const e = view.putNode(rec, stamp);
          if (!e) return;
          if (heardAt > e.heardAt) e.heardAt = heardAt;
          view.version++;
          presence.reload(nodeId);
          return;
        }
        if (attempt >= CONFIRM_ATTEMPTS) {
          counters.inc('scheduler_nodes_unconfirmed');
          return;
        }
        await new Promise((r) => setTimeout(r, CONFIRM_RETRY_MS));
      }
    });
  }

  private onRelay(subject: Subject, e: RelayStartedEvent, relaying: boolean): void {
    this.count(subject);
    const entry = this.o.view.node(e.nodeId);
    if (
      !entry ||
      entry.info.instanceId !== e.instanceId ||
      entry.info.role !== NodeRole.Edge ||
      entry.presence.instanceId !== e.instanceId
    ) {
      this.ignored(subject, 'unknown-node');
      return;
    }
    // Ahead of the node's next presence change, which will say the same (or correct it).
    const cur = entry.presence.streams.get(e.key);
    if ((cur?.relaying ?? false) === relaying) return;
    this.o.view.setStream(entry, e.key, { viewers: cur?.viewers ?? 0, relaying, publishing: false });
  }

  /** Sessions of confirmed node processes only (the index is for the API; it routes nothing). */
  private onSession(subject: Subject, e: SessionStartedEvent, started: boolean): void {
    this.count(subject);
    const { sessions } = this.o;
    if (!sessions) return;
    if (!started) return sessions.stopped(e);
    if (this.o.view.node(e.nodeId)?.info.instanceId !== e.instanceId) {
      return this.ignored(subject, 'unknown-node');
    }
    sessions.started(e);
  }

  private onPublished(e: StreamPublishedEvent): void {
    this.count(Subject.StreamPublished);
    const cur = this.o.view.owner(e.key);
    // Not newer than what the view holds: a replay or a late duplicate, nothing to check.
    if (cur && e.epoch <= cur.epoch) return this.ignored(Subject.StreamPublished, 'old-epoch');
    this.confirmOwner(e.key);
  }

  private onUnpublished(e: StreamUnpublishedEvent): void {
    this.count(Subject.StreamUnpublished);
    const cur = this.o.view.owner(e.key);
    if (!cur || e.epoch < cur.epoch) return this.ignored(Subject.StreamUnpublished, 'old-epoch');
    this.confirmOwner(e.key);
  }

  /** Re-reads the key's owner (coalesced per key); the view moves only to what Redis holds. */
  private confirmOwner(key: string): void {
    const { view, registry } = this.o;
    this.o.queue.request(`owner:${key}`, async () => {
      const stamp = view.nextStamp();
      const owner = await registry.lookup(key);
      view.confirmOwner(key, owner, stamp, view.now());
    });
  }

  private count(subject: Subject): void {
    this.o.counters.inc('scheduler_events', 1, { subject });
  }

  private ignored(subject: Subject, why: string): void {
    this.o.counters.inc('scheduler_events_ignored', 1, { subject, why });
  }
}
