import { MemoryBus } from '../../../libs/cluster/memory-bus.ts';
import { MemoryRegistry } from '../../../libs/cluster/memory-registry.ts';
import {
  Subject,
  type EventMap,
  type NodeHeartbeatEvent,
  type NodeInfo,
  type NodeLoad,
  type NodeRole,
  type NodeStreamInfo,
  type PresenceChanges,
  type StreamRegistry,
} from '../../../libs/cluster/types.ts';
import { silentLogger } from '../../../libs/log/logger.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import { Candidates } from '../../../services/scheduler/candidates.ts';
import { ClusterView } from '../../../services/scheduler/cluster-view.ts';
import {
  createSchedulerCore,
  type SchedulerCore,
  type SchedulerCoreOptions,
} from '../../../services/scheduler/core.ts';

/** The registry's clock (plays Redis's) starts here; the scheduler's monotonic clock starts at 0. */
export const NOW = 1_700_000_000_000;
export const HEARTBEAT_MS = 2000;

/** A node record with its presence, as a node's agent writes them. */
export type TestNode = NodeInfo & { streams: Record<string, NodeStreamInfo> };

export interface NodeSpec {
  id: string;
  role?: NodeRole;
  players?: number;
  relays?: number;
  publishers?: number;
  max?: number;
  draining?: boolean;
  /** Keys this node relays (edges) or publishes (origins), with viewer counts. */
  relaying?: Record<string, number>;
  publishing?: Record<string, number>;
  host?: string;
  port?: number;
  protocols?: NodeInfo['protocols'];
  instanceId?: string;
}

/** A node record with loopback-ish addresses derived from the port (rtmp p, http 8080, api 8083). */
export function node(s: NodeSpec): TestNode {
  const load: NodeLoad = {
    publishers: s.publishers ?? 0,
    players: s.players ?? 0,
    relays: s.relays ?? 0,
    bytesInPerSec: 0,
    bytesOutPerSec: 0,
    cpuPercent: 0,
    maxConnections: s.max ?? 100,
  };
  const streams: Record<string, NodeStreamInfo> = {};
  for (const [k, viewers] of Object.entries(s.relaying ?? {})) {
    streams[k] = { viewers, relaying: true, publishing: false };
  }
  for (const [k, viewers] of Object.entries(s.publishing ?? {})) {
    streams[k] = { viewers, relaying: false, publishing: true };
  }
  const host = s.host ?? `${s.id}.example`;
  const port = s.port ?? 1935;
  return {
    nodeId: s.id,
    instanceId: s.instanceId ?? `${s.id}-instance`,
    role: s.role ?? 'edge',
    internal: { rtmp: `10.0.0.1:${port}`, http: `10.0.0.1:${port + 1}`, api: `10.0.0.1:${port + 2}` },
    public: { rtmp: `${host}:${port}`, http: `${host}:8080`, api: `${host}:8083`, rtsp: `${host}:5544` },
    protocols: s.protocols ?? ['rtmp', 'flv', 'ws-flv', 'ts', 'hls', 'rtsp'],
    load,
    draining: s.draining ?? false,
    startedAt: NOW - 60_000,
    updatedAt: NOW,
    streams,
  };
}

/** The process of a node id in these tests. */
export const proc = (id: string, instanceId = `${id}-instance`): { nodeId: string; instanceId: string } => ({
  nodeId: id,
  instanceId,
});

/** Registers the node record and writes its presence in full as number `seq`, as a node's agent would. */
export async function register(reg: StreamRegistry, n: TestNode, ttlMs = 60_000, seq = 1): Promise<void> {
  const { streams, ...info } = n;
  await reg.registerNode(info, ttlMs);
  await reg.writePresence(info, seq, streams, true, ttlMs);
}

/** The heartbeat a node's agent sends with its record. */
export function heartbeat(
  n: TestNode,
  presenceSeq: number,
  over: Partial<NodeHeartbeatEvent> = {},
): NodeHeartbeatEvent {
  const { streams: _s, updatedAt: _u, ...rest } = n;
  return { ...rest, v: 1, ts: NOW, presenceSeq, ...over };
}

/** A registry whose reads can be made to fail (Redis down). */
export class SwitchableRegistry extends MemoryRegistry {
  down = false;
  private gate<T>(p: () => Promise<T>): Promise<T> {
    return this.down ? Promise.reject(new Error('registry down')) : p();
  }
  override lookup(key: string) {
    return this.gate(() => super.lookup(key));
  }
  override listStreams() {
    return this.gate(() => super.listStreams());
  }
  override listNodes() {
    return this.gate(() => super.listNodes());
  }
  override listStreamEpochs() {
    return this.gate(() => super.listStreamEpochs());
  }
  override listNodeIds() {
    return this.gate(() => super.listNodeIds());
  }
  override getNode(id: string) {
    return this.gate(() => super.getNode(id));
  }
  override getPresence(id: string) {
    return this.gate(() => super.getPresence(id));
  }
}

export interface Harness {
  reg: SwitchableRegistry;
  bus: MemoryBus;
  /** The scheduler's monotonic clock (ms). */
  clock: { t: number };
  /** The registry's clock (Redis's). */
  regClock: { t: number };
  counters: Counters;
  core: SchedulerCore;
  /** Whether the scheduler sees the bus as connected. */
  busUp: { v: boolean };
  /** Sends an event as a node would (schema-checked on both sides). */
  send<S extends Subject>(subject: S, event: EventMap[S]): void;
  presence(n: { nodeId: string; instanceId: string }, seq: number, streams: PresenceChanges): void;
  /** Lets queued events and registry reads finish. */
  settle(): Promise<void>;
}

export const CFG: SchedulerCoreOptions['cfg'] = {
  cluster: { heartbeatMs: HEARTBEAT_MS, reconcileMs: 60_000, fullReconcileMs: 600_000, cacheMs: 0 },
  view: { maxNodes: 1000, maxStreams: 1000, maxStreamsPerNode: 1000, maxSessions: 1000 },
  routing: { maxLoadRatio: 0.9, preferRelaying: true },
};

/** A scheduler core over the in-memory registry and bus, with clocks the test moves. */
export function harness(o: { cfg?: Partial<typeof CFG>; withBus?: boolean } = {}): Harness {
  const regClock = { t: NOW };
  const clock = { t: 0 };
  const reg = new SwitchableRegistry({ now: () => regClock.t });
  const bus = new MemoryBus();
  const busUp = { v: true };
  const counters = new Counters();
  const source = {
    subscribe: bus.subscribe.bind(bus),
    get connected() {
      return busUp.v;
    },
  };
  const core = createSchedulerCore({
    cfg: { ...CFG, ...o.cfg },
    registry: reg,
    bus: o.withBus === false ? null : source,
    counters,
    log: silentLogger(),
    now: () => clock.t,
  });
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  };
  return {
    reg,
    bus,
    clock,
    regClock,
    counters,
    core,
    busUp,
    send: (subject, event) => bus.publish(subject, event),
    presence: (n, seq, streams) =>
      bus.publish(Subject.NodePresence, {
        v: 1,
        nodeId: n.nodeId,
        instanceId: n.instanceId,
        ts: NOW,
        seq,
        streams,
      }),
    settle,
  };
}

/** A view holding `nodes` (records and presence), each heard `ageMs[id]` ago (default just now), at monotonic time `now`. */
export function viewOf(
  nodes: readonly TestNode[],
  o: { now?: number; ageMs?: Record<string, number>; maxLoadRatio?: number } = {},
): { view: ClusterView; candidates: Candidates; now: number } {
  const now = o.now ?? 100_000;
  const view = new ClusterView({
    heartbeatMs: HEARTBEAT_MS,
    limits: CFG.view,
    counters: new Counters(),
    now: () => now,
  });
  view.setEventsFlowing(true);
  for (const n of nodes) {
    const { streams, ...info } = n;
    const e = view.putNode(structuredClone(info), view.nextStamp())!;
    view.replacePresence(e, { nodeId: n.nodeId, instanceId: n.instanceId, seq: 1, streams });
    e.heardAt = now - (o.ageMs?.[n.nodeId] ?? 0);
  }
  // No reconcile has listed these nodes, so heartbeats alone decide their health.
  return { view, candidates: new Candidates(view, { maxLoadRatio: o.maxLoadRatio ?? 0.9 }), now };
}
