import { newInstanceId } from '../../../libs/cluster/instance-id.ts';
import { NatsBus } from '../../../libs/cluster/nats-bus.ts';
import { RedisRegistry } from '../../../libs/cluster/redis-registry.ts';
import {
  Subject,
  type Holder,
  type NodeLoad,
  type NodeRole,
  type NodeStreamInfo,
  type PlayProtocol,
} from '../../../libs/cluster/types.ts';
import { silentLogger } from '../../../libs/log/logger.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import type { StreamSummary } from '../../../libs/stream/hub.ts';
import { ClusterAgent, type AgentNode } from '../../../services/node/cluster-agent.ts';

// A cluster node without media: the real node-side cluster code (ClusterAgent over a real
// RedisRegistry and NatsBus, one connection each, like a node process) around a stand-in for
// the media node whose streams and load the test sets. Its Redis and NATS traffic is what a
// real node of the same shape sends.

/** What the agent reads from a media node, set by the test. */
class FakeMediaNode implements AgentNode {
  readonly counters = new Counters();
  readonly hub = { list: (): StreamSummary[] => [] };
  readonly streams = new Map<string, NodeStreamInfo>();
  maxConnections = 1000;
  publishers = 0;

  sampleLoad(): NodeLoad {
    let players = 0;
    for (const s of this.streams.values()) players += s.viewers;
    return {
      publishers: this.publishers,
      players,
      relays: 0,
      bytesInPerSec: 0,
      bytesOutPerSec: 0,
      cpuPercent: 0,
      maxConnections: this.maxConnections,
    };
  }

  kick(): boolean {
    return false;
  }
}

export interface FakeNodeOptions {
  nodeId: string;
  role: NodeRole;
  redisUrl: string;
  natsUrl: string;
  heartbeatMs: number;
  nodeTtlMs: number;
  /** Public host; ports 1935 (rtmp) and 8080 (http). */
  host?: string;
  protocols?: PlayProtocol[];
  maxConnections?: number;
}

export class FakeNode {
  readonly holder: Holder;
  readonly registry: RedisRegistry;
  readonly bus: NatsBus;
  readonly agent: ClusterAgent;
  private readonly media = new FakeMediaNode();
  private readonly role: NodeRole;

  constructor(o: FakeNodeOptions) {
    this.holder = { nodeId: o.nodeId, instanceId: newInstanceId() };
    this.role = o.role;
    this.registry = new RedisRegistry({
      url: o.redisUrl,
      clientName: `sluice:${o.role}:${this.holder.instanceId}`,
    });
    this.bus = new NatsBus({ url: o.natsUrl, name: o.nodeId });
    if (o.maxConnections !== undefined) this.media.maxConnections = o.maxConnections;
    const host = o.host ?? `${o.nodeId}.sim`;
    this.agent = new ClusterAgent({
      holder: this.holder,
      role: o.role,
      node: this.media,
      registry: this.registry,
      bus: this.bus,
      log: silentLogger(),
      internal: { rtmp: `127.0.0.1:1935`, http: `127.0.0.1:8080` },
      public: { rtmp: `${host}:1935`, http: `${host}:8080` },
      protocols: o.protocols ?? ['rtmp', 'flv', 'ws-flv'],
      heartbeatMs: o.heartbeatMs,
      nodeTtlMs: o.nodeTtlMs,
      streams: () => Object.fromEntries(this.media.streams),
      ...(o.role === 'edge'
        ? { relays: () => [...this.media.streams.values()].filter((s) => s.relaying).length }
        : {}),
    });
  }

  get nodeId(): string {
    return this.holder.nodeId;
  }

  /** Starts heartbeating (the first beat at once) once NATS is connected. */
  async start(): Promise<this> {
    await this.bus.ready;
    this.agent.start();
    return this;
  }

  /** Sets what the node serves of `key` (null: nothing); announced with the next heartbeat. */
  setStream(key: string, info: NodeStreamInfo | null): void {
    if (info) this.media.streams.set(key, info);
    else this.media.streams.delete(key);
    this.media.publishers = [...this.media.streams.values()].filter((s) => s.publishing).length;
  }

  stream(key: string): NodeStreamInfo | undefined {
    return this.media.streams.get(key);
  }

  streamKeys(): string[] {
    return [...this.media.streams.keys()];
  }

  /** An edge starts relaying `key` with `viewers`, announced at once like a real relay. */
  relay(key: string, fromNodeId: string, epoch: number, viewers: number): void {
    const had = this.media.streams.get(key)?.relaying === true;
    this.setStream(key, { viewers, relaying: true, publishing: false });
    if (had || this.role !== 'edge') return;
    this.bus.publish(Subject.RelayStarted, { ...this.agent.base(), key, fromNodeId, epoch });
  }

  /** Graceful stop: the record is removed. */
  async stop(): Promise<void> {
    await this.agent.stop();
    await Promise.allSettled([this.bus.close(), this.registry.close()]);
  }

  /** A crash: connections cut, no goodbye; the record lapses with its TTL. */
  async crash(): Promise<void> {
    await Promise.allSettled([this.bus.close(), this.registry.close()]);
    await this.agent.stop();
  }
}
