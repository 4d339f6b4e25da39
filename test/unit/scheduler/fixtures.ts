import type { NodeLoad, NodeRole, NodeStreamInfo, StreamRegistry } from '../../../libs/cluster/types.ts';
import type { ClusterNode } from '../../../services/scheduler/registry-cache.ts';

/** A fixed clock for hand-built node lists. */
export const NOW = 1_700_000_000_000;
export const HEARTBEAT_MS = 2000;

export interface NodeSpec {
  id: string;
  role?: NodeRole;
  players?: number;
  relays?: number;
  publishers?: number;
  max?: number;
  draining?: boolean;
  /** ms before NOW of the last heartbeat. */
  ageMs?: number;
  /** Keys this node relays (edges) or publishes (origins), with viewer counts. */
  relaying?: Record<string, number>;
  publishing?: Record<string, number>;
  host?: string;
  port?: number;
  protocols?: ClusterNode['protocols'];
}

/** A NodeInfo with loopback-ish addresses derived from the id's port (rtmp p, http p+1, api p+2). */
export function node(s: NodeSpec): ClusterNode {
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
    instanceId: `${s.id}-instance`,
    role: s.role ?? 'edge',
    internal: { rtmp: `10.0.0.1:${port}`, http: `10.0.0.1:${port + 1}`, api: `10.0.0.1:${port + 2}` },
    public: { rtmp: `${host}:${port}`, http: `${host}:8080`, api: `${host}:8083` },
    protocols: s.protocols ?? ['rtmp', 'flv', 'ws-flv', 'ts', 'hls', 'rtsp'],
    load,
    draining: s.draining ?? false,
    startedAt: NOW - 60_000,
    updatedAt: NOW - (s.ageMs ?? 0),
    streams,
  };
}

/** Registers the node record and writes its presence, as a node's agent would. */
export async function register(reg: StreamRegistry, n: ClusterNode, ttlMs: number): Promise<void> {
  const { streams, ...info } = n;
  await reg.registerNode(info, ttlMs);
  await reg.writePresence(info, 1, streams, true, ttlMs);
}

/** The process of a node id in these tests. */
export const proc = (id: string): { nodeId: string; instanceId: string } => ({
  nodeId: id,
  instanceId: `${id}-instance`,
});
