import type { Logger } from 'pino';
import {
  Subject,
  type ControlReply,
  type ControlRequest,
  type EventBus,
  type NodeAddresses,
  type NodeInfo,
  type NodeRole,
  type NodeStreamInfo,
  type StreamRegistry,
} from '../../libs/cluster/types.ts';
import type { SessionEnd, SessionInfo } from './hooks.ts';
import type { MediaNode } from './media-node.ts';
import { emit } from './emit.ts';

export interface ClusterAgentOptions {
  nodeId: string;
  role: NodeRole;
  node: MediaNode;
  registry: StreamRegistry;
  bus: EventBus;
  log: Logger;
  internal: NodeAddresses;
  public: NodeAddresses;
  heartbeatMs: number;
  nodeTtlMs: number;
  /** Per-stream presence for the node record (edges add `relaying`). */
  streams: () => Record<string, NodeStreamInfo>;
  /** Relays this node runs itself (edges); origins count relay pulls they serve instead. */
  relays?: () => number;
  /** Role-specific control ops (relay.start/stop on edges); kick and stats are handled here. */
  control?: (req: ControlRequest) => Promise<ControlReply> | null;
}

/**
 * A node's presence in the cluster: its registration (with a TTL, refreshed each heartbeat),
 * heartbeat and session events on the bus, and control requests addressed to it. Failures of
 * Redis or NATS are logged (rate-limited) and never stop the media.
 */
export class ClusterAgent {
  private readonly o: ClusterAgentOptions;
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private stopControl: (() => void) | null = null;
  private draining = false;
  private lastRegistryError = 0;

  constructor(o: ClusterAgentOptions) {
    this.o = o;
  }

  start(): void {
    this.stopControl = this.o.bus.serveControl(this.o.nodeId, (req) => this.onControl(req));
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.o.heartbeatMs);
    this.timer.unref();
  }

  /** Marks the node draining in its record (the scheduler stops routing to it) and beats at once. */
  async drain(): Promise<void> {
    this.draining = true;
    await this.beat();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopControl?.();
    await this.o.registry.unregisterNode(this.o.nodeId).catch(() => undefined);
  }

  sessionStarted(s: SessionInfo): void {
    emit(this.o.bus, this.o.log, Subject.SessionStarted, { ...this.base(), ...s });
  }

  sessionStopped(s: SessionEnd): void {
    emit(this.o.bus, this.o.log, Subject.SessionStopped, { ...this.base(), ...s });
  }

  base(): { v: 1; nodeId: string; ts: number } {
    return { v: 1, nodeId: this.o.nodeId, ts: Date.now() };
  }

  private info(): NodeInfo {
    const load = this.o.node.sampleLoad();
    if (this.o.relays) load.relays = this.o.relays();
    return {
      nodeId: this.o.nodeId,
      role: this.o.role,
      internal: this.o.internal,
      public: this.o.public,
      load,
      draining: this.draining,
      startedAt: this.startedAt,
      updatedAt: Date.now(),
      streams: this.o.streams(),
    };
  }

  private async beat(): Promise<void> {
    const info = this.info();
    // A heartbeat is only news while it is fresh: none is queued while NATS is away.
    if (this.o.bus.connected)
      emit(this.o.bus, this.o.log, Subject.NodeHeartbeat, {
        ...this.base(),
        role: info.role,
        load: info.load,
        draining: info.draining,
      });
    try {
      await this.o.registry.registerNode(info, this.o.nodeTtlMs);
    } catch (e) {
      const now = Date.now();
      if (now - this.lastRegistryError > 10_000) {
        this.lastRegistryError = now;
        this.o.log.warn(
          { err: (e as Error).message },
          'node registration failed (registry unreachable); media continues',
        );
      }
    }
  }

  private async onControl(req: ControlRequest): Promise<ControlReply> {
    switch (req.op) {
      case 'kick':
        return this.o.node.kick(req.sessionId, 'kicked by control request')
          ? { ok: true }
          : { ok: false, error: `no session ${req.sessionId}` };
      case 'stats':
        return { ok: true, data: { nodeId: this.o.nodeId, streams: this.o.node.hub.list() } };
      default: {
        const reply = this.o.control?.(req);
        return reply ? await reply : { ok: false, error: `${req.op} is not supported by a ${this.o.role}` };
      }
    }
  }
}
