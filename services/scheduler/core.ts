import type { Logger } from 'pino';
import type { StreamRegistry } from '../../libs/cluster/types.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { Candidates } from './candidates.ts';
import { ClusterView } from './cluster-view.ts';
import type { SchedulerConfig } from './config.ts';
import { OwnerLookups } from './owner-lookups.ts';
import { PresenceSync } from './presence-sync.ts';
import { Reconciler } from './reconciler.ts';
import { Scheduler } from './scheduler.ts';
import { SessionIndex } from './session-index.ts';
import { viewGauges, viewStatus, type ViewStatus } from './status.ts';
import { TaskQueue } from './task-queue.ts';
import { ViewFeed, type EventSource } from './view-feed.ts';

/** The registry reads the scheduler makes (it never writes). */
export type SchedulerRegistry = Pick<
  StreamRegistry,
  'lookup' | 'listStreams' | 'listStreamEpochs' | 'listNodes' | 'listNodeIds' | 'getNode' | 'getPresence'
>;

export interface SchedulerCoreOptions {
  cfg: {
    cluster: Pick<SchedulerConfig['cluster'], 'heartbeatMs' | 'reconcileMs' | 'fullReconcileMs' | 'cacheMs'>;
    view: SchedulerConfig['view'];
    routing: SchedulerConfig['routing'];
  };
  registry: SchedulerRegistry;
  /** null without NATS: the view is then refreshed by the reconcile alone. */
  bus: EventSource | null;
  counters: Counters;
  log: Logger;
  /** The Redis connection is up (RedisRegistry.status === 'ready'); true by default. */
  registryUp?: () => boolean;
  /** Monotonic clock for tests. */
  now?: () => number;
}

/** Event-triggered reads running at once, and ids that may wait (each queue). */
const READ_CONCURRENCY = 32;
const MAX_TRACKED = 4096;
/** A node's presence is reloaded at most this often, whatever its events say. */
const PRESENCE_COOLDOWN_MS = 250;

export interface SchedulerCore {
  view: ClusterView;
  scheduler: Scheduler;
  reconciler: Reconciler;
  feed: ViewFeed | null;
  /** Live sessions of the cluster (from session events), for the HTTP API. */
  sessions: SessionIndex;
  status: () => ViewStatus;
  gauges: () => Record<string, number>;
  start(): void;
  stop(): void;
}

/** Wires the view, its feeds and the answers; main.ts adds Redis, NATS and HTTP. */
export function createSchedulerCore(o: SchedulerCoreOptions): SchedulerCore {
  const { cfg, registry, counters, log } = o;
  const view = new ClusterView({
    heartbeatMs: cfg.cluster.heartbeatMs,
    limits: cfg.view,
    counters,
    log: log.child({ component: 'view' }),
    ...(o.now ? { now: o.now } : {}),
  });
  const sessions = new SessionIndex({ maxSessions: cfg.view.maxSessions, counters });
  view.onNodeGone = (nodeId) => sessions.dropNode(nodeId);
  const queue = (name: string, cooldownMs: number): TaskQueue =>
    new TaskQueue({
      concurrency: READ_CONCURRENCY,
      maxTracked: MAX_TRACKED,
      cooldownMs,
      onDrop: () => counters.inc('scheduler_reads_dropped', 1, { queue: name }),
      onError: () => counters.inc('scheduler_reads_failed', 1, { queue: name }),
    });
  const presenceQueue = queue('presence', PRESENCE_COOLDOWN_MS);
  const confirmQueue = queue('confirm', 0);
  const presence = new PresenceSync({ view, registry, counters, queue: presenceQueue });
  const reconciler = new Reconciler({
    view,
    registry,
    presence,
    intervalMs: cfg.cluster.reconcileMs,
    fullIntervalMs: cfg.cluster.fullReconcileMs,
    counters,
    log: log.child({ component: 'reconcile' }),
  });
  const feed = o.bus
    ? new ViewFeed({
        view,
        bus: o.bus,
        registry,
        presence,
        queue: confirmQueue,
        sessions,
        counters,
        log: log.child({ component: 'events' }),
        // Events sent while the scheduler was cut off are lost: read everything again.
        onResume: () => reconciler.runSoon(),
      })
    : null;
  const scheduler = new Scheduler({
    view,
    candidates: new Candidates(view, { maxLoadRatio: cfg.routing.maxLoadRatio }),
    lookups: new OwnerLookups(registry, view, cfg.cluster.cacheMs),
    routing: cfg.routing,
  });
  const sources = {
    view,
    reconciler,
    registryUp: o.registryUp ?? (() => true),
    natsConfigured: o.bus !== null,
  };
  return {
    view,
    scheduler,
    reconciler,
    feed,
    sessions,
    status: () => viewStatus(sources),
    gauges: () => viewGauges(sources),
    start() {
      feed?.start();
      reconciler.start();
    },
    stop() {
      feed?.stop();
      reconciler.stop();
      presenceQueue.close();
      confirmQueue.close();
    },
  };
}
