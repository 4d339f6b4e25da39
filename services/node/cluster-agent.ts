import type { Logger } from 'pino';
import {
  Subject,
  type ControlReply,
  type ControlRequest,
  type EventBus,
  type Holder,
  type NodeAddresses,
  type NodeInfo,
  type NodeRole,
  type NodeStreamInfo,
  type PlayProtocol,
  type StreamRegistry,
} from '../../libs/cluster/types.ts';
import type { RecordFileEnd, RecordFileInfo } from '../../libs/record/record-file.ts';
import type { RelayPullControl } from './control-types.ts';
import type { SessionEnd, SessionInfo } from './hooks.ts';
import type { MediaNode } from './media-node.ts';
import { emit } from './emit.ts';
import { chunkChanges, diffPresence } from './presence-diff.ts';

/** What the agent uses of its media node (a MediaNode; the scale simulation passes a small fake). */
export type AgentNode = Pick<MediaNode, 'sampleLoad' | 'kick' | 'counters'> & {
  hub: Pick<MediaNode['hub'], 'list'>;
  /** Relay pulls (null on edges, absent in fakes): relay.pull.start/stop are refused without them. */
  relayPulls?: RelayPullControl | null;
};

export interface ClusterAgentOptions {
  holder: Holder;
  role: NodeRole;
  node: AgentNode;
  registry: StreamRegistry;
  bus: EventBus;
  log: Logger;
  internal: NodeAddresses;
  public: NodeAddresses;
  protocols: PlayProtocol[];
  heartbeatMs: number;
  nodeTtlMs: number;
  /** Per-stream presence (edges add `relaying`). */
  streams: () => Record<string, NodeStreamInfo>;
  /** Relays this node runs itself (edges); origins count relay pulls they serve instead. */
  relays?: () => number;
  /** Role-specific control ops (relay.start/stop on edges); kick, stats and ping are handled here. */
  control?: (req: ControlRequest) => Promise<ControlReply> | null;
}

/** Registry failures and node-id conflicts are logged at most this often. */
const WARN_EVERY_MS = 10_000;

/**
 * A node's presence in the cluster: its small record (with a TTL, refreshed each heartbeat)
 * and heartbeat event; its per-stream presence, written and announced only when it changes;
 * session events; and control requests addressed to its node id or to this very process.
 * Failures of Redis or NATS are logged (rate-limited) and never stop the media.
 */
export class ClusterAgent {
  private readonly o: ClusterAgentOptions;
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private readonly stopControl: (() => void)[] = [];
  private draining = false;
  private lastRegistryWarn = 0;
  private lastConflictWarn = 0;
  /** Presence as last written to the registry; `full` forces a complete rewrite next time. */
  private written = new Map<string, NodeStreamInfo>();
  private presenceSeq = 0;
  private presenceFull = true;
  private beating: Promise<void> | null = null;

  constructor(o: ClusterAgentOptions) {
    this.o = o;
  }

  start(): void {
    const handler = (req: ControlRequest): Promise<ControlReply> => this.onControl(req);
    this.stopControl.push(this.o.bus.serveControl(this.o.holder.nodeId, handler));
    this.stopControl.push(this.o.bus.serveControl({ instanceId: this.o.holder.instanceId }, handler));
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.o.heartbeatMs);
    this.timer.unref();
  }

  /** Marks the node draining in its record (the scheduler stops routing to it) and beats at once. */
  async drain(): Promise<void> {
    this.draining = true;
    await this.beating; // a beat in flight carries the old flag: write the new one after it
    await this.beat();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const stop of this.stopControl.splice(0)) stop();
    await this.beating;
    await this.o.registry.unregisterNode(this.o.holder).catch(() => undefined);
  }

  sessionStarted(s: SessionInfo): void {
    emit(this.o.bus, this.o.log, Subject.SessionStarted, { ...this.base(), ...s });
  }

  sessionStopped(s: SessionEnd): void {
    emit(this.o.bus, this.o.log, Subject.SessionStopped, { ...this.base(), ...s });
  }

  recordStarted(r: RecordFileInfo): void {
    emit(this.o.bus, this.o.log, Subject.RecordStarted, { ...this.base(), ...r });
  }

  recordStopped(r: RecordFileEnd): void {
    emit(this.o.bus, this.o.log, Subject.RecordStopped, { ...this.base(), ...r });
  }

  base(): { v: 1; nodeId: string; instanceId: string; ts: number } {
    return { v: 1, nodeId: this.o.holder.nodeId, instanceId: this.o.holder.instanceId, ts: Date.now() };
  }

  private info(): NodeInfo {
    const load = this.o.node.sampleLoad();
    if (this.o.relays) load.relays = this.o.relays();
    return {
      nodeId: this.o.holder.nodeId,
      instanceId: this.o.holder.instanceId,
      role: this.o.role,
      internal: this.o.internal,
      public: this.o.public,
      protocols: this.o.protocols,
      load,
      draining: this.draining,
      startedAt: this.startedAt,
      updatedAt: Date.now(),
    };
  }

  /**
   * One beat at a time: a slow registry must not pile up overlapping writes. The heartbeat
   * event goes out on every tick all the same: liveness on NATS must not wait for Redis.
   */
  private beat(): Promise<void> {
    if (this.beating) {
      this.announce(this.info());
      return this.beating;
    }
    this.beating = this.beatOnce().finally(() => (this.beating = null));
    return this.beating;
  }

  private async beatOnce(): Promise<void> {
    // Presence changes are announced as the write starts, so the heartbeat right after carries
    // their number; neither waits for Redis to answer.
    const written = this.presence();
    const info = this.info();
    this.announce(info);
    await written;
    try {
      const r = await this.o.registry.registerNode(info, this.o.nodeTtlMs);
      if (r.previousInstanceId) this.conflict(r.previousInstanceId);
    } catch (e) {
      this.registryFailed(e, 'node registration failed (registry unreachable); media continues');
    }
  }

  private announce(info: NodeInfo): void {
    // A heartbeat is only news while it is fresh: none is queued while NATS is away.
    if (!this.o.bus.connected) return;
    const { updatedAt, ...rest } = info;
    emit(this.o.bus, this.o.log, Subject.NodeHeartbeat, {
      ...rest,
      v: 1,
      ts: updatedAt,
      presenceSeq: this.presenceSeq,
    });
  }

  /**
   * Writes what changed in the node's streams since the last write (all of it after a failure
   * or when the record expired) and announces the same changes, numbered, on the bus.
   */
  private async presence(): Promise<void> {
    const now = this.o.streams();
    const delta = diffPresence(this.written, now);
    const full = this.presenceFull;
    const { registry, holder, nodeTtlMs } = this.o;
    try {
      if (Object.keys(delta).length === 0 && !full) {
        if (!(await registry.touchPresence(holder, nodeTtlMs))) this.presenceFull = true;
        return;
      }
      // Events carry the change since the last announcement (removals included); the registry
      // gets the same change, or everything when its record must be rewritten.
      for (const streams of chunkChanges(delta)) {
        this.presenceSeq++;
        emit(this.o.bus, this.o.log, Subject.NodePresence, {
          ...this.base(),
          seq: this.presenceSeq,
          streams,
        });
      }
      this.written = new Map(Object.entries(now));
      this.presenceFull = false;
      await registry.writePresence(holder, this.presenceSeq, full ? { ...now } : delta, full, nodeTtlMs);
    } catch (e) {
      this.presenceFull = true;
      this.registryFailed(e, 'presence not written (registry unreachable); rewriting it in full next beat');
    }
  }

  private registryFailed(e: unknown, msg: string): void {
    const now = Date.now();
    if (now - this.lastRegistryWarn < WARN_EVERY_MS) return;
    this.lastRegistryWarn = now;
    this.o.log.warn({ err: (e as Error).message }, msg);
  }

  private conflict(other: string): void {
    this.o.node.counters.inc('node_id_conflicts');
    const now = Date.now();
    if (now - this.lastConflictWarn < WARN_EVERY_MS) return;
    this.lastConflictWarn = now;
    this.o.log.warn(
      { otherInstance: other },
      'node id was registered by another process; if this repeats, two processes share this node id (set SLUICE_NODE_ID)',
    );
  }

  /** lal start/stop_relay_pull forwarded by the scheduler: the node's relay pulls answer. */
  private async relayPull(
    req: Extract<ControlRequest, { op: 'relay.pull.start' | 'relay.pull.stop' }>,
  ): Promise<ControlReply> {
    const pulls = this.o.node.relayPulls;
    if (!pulls)
      return { ok: false, code: 'refused', error: `${req.op} is not supported by a ${this.o.role}` };
    const r =
      req.op === 'relay.pull.stop'
        ? await pulls.stop(req.key)
        : await pulls.start({
            url: req.url,
            key: req.key,
            retryNum: req.retryNum,
            autoStopAfterNoViewersMs: req.autoStopAfterNoViewersMs,
            timeoutMs: req.timeoutMs,
            rtspTransport: req.rtspTransport,
          });
    if (!r.ok) return { ok: false, code: r.code, error: r.message };
    this.o.log.info({ stream: req.key, session: r.value.id, op: req.op }, 'control: relay pull');
    return { ok: true, data: r.value };
  }

  private async onControl(req: ControlRequest): Promise<ControlReply> {
    switch (req.op) {
      case 'ping':
        return { ok: true, data: { nodeId: this.o.holder.nodeId, instanceId: this.o.holder.instanceId } };
      case 'kick':
        return this.o.node.kick(req.sessionId, 'kicked by control request')
          ? { ok: true }
          : { ok: false, error: `no session ${req.sessionId}` };
      case 'stats':
        return {
          ok: true,
          data: {
            nodeId: this.o.holder.nodeId,
            instanceId: this.o.holder.instanceId,
            streams: this.o.node.hub.list(),
          },
        };
      case 'relay.pull.start':
      case 'relay.pull.stop':
        return this.relayPull(req);
      default: {
        const reply = this.o.control?.(req);
        return reply ? await reply : { ok: false, error: `${req.op} is not supported by a ${this.o.role}` };
      }
    }
  }
}
