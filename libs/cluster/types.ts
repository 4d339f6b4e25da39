/**
 * The cluster contract (DESIGN.md "Cluster contract"): who owns which stream (registry,
 * Redis in a cluster, memory in standalone) and what happened where (event bus, NATS in a
 * cluster, in-process in standalone). Services depend on these interfaces only.
 */

export const NodeRole = { Standalone: 'standalone', Origin: 'origin', Edge: 'edge' } as const;
export type NodeRole = (typeof NodeRole)[keyof typeof NodeRole];

/** `host:port` per protocol; absent when the node does not serve it. */
export interface NodeAddresses {
  rtmp?: string;
  http?: string;
  api?: string;
}

export interface NodeLoad {
  publishers: number;
  players: number;
  relays: number;
  bytesInPerSec: number;
  bytesOutPerSec: number;
  /** Process CPU, 100 = one core. */
  cpuPercent: number;
  /** Connection limit of the node (limits.maxConnections): the scheduler's notion of capacity. */
  maxConnections: number;
}

/** Per-stream presence of a node, for the scheduler (edges relaying it, viewer counts). */
export interface NodeStreamInfo {
  viewers: number;
  /** This node pulls the stream from its origin (edges). */
  relaying: boolean;
  /** This node has the publisher (origins). */
  publishing: boolean;
}

export interface NodeInfo {
  nodeId: string;
  role: NodeRole;
  /** Addresses other nodes use (relay pulls go to internal.rtmp). */
  internal: NodeAddresses;
  /** Addresses handed to viewers and publishers (play URLs). */
  public: NodeAddresses;
  load: NodeLoad;
  draining: boolean;
  startedAt: number;
  updatedAt: number;
  streams: Record<string, NodeStreamInfo>;
}

/** What an origin learned about a stream it owns, once the sequence headers arrived. */
export interface StreamMediaInfo {
  videoCodec?: string;
  audioCodec?: string;
  width?: number;
  height?: number;
}

export interface StreamOwner {
  key: string;
  nodeId: string;
  /** Fencing epoch: increases on every successful claim of the key (INCR), never reused. */
  epoch: number;
  /** When this claim was made (ms since epoch). */
  since: number;
  /** When the lease runs out unless refreshed (ms since epoch). */
  expiresAt: number;
  media: StreamMediaInfo;
}

export type ClaimResult = { ok: true; epoch: number } | { ok: false; owner: StreamOwner | null };

/** Stream ownership and node registration. Every method may reject when the store is down. */
export interface StreamRegistry {
  /** Atomically: claim if free (new epoch), else report the current owner. Re-claiming one's own live key returns ok with a NEW epoch. */
  claim(key: string, nodeId: string, leaseMs: number): Promise<ClaimResult>;
  /** Extends the lease; false when the claim is gone or belongs to another node/epoch (lost). */
  refresh(key: string, nodeId: string, epoch: number, leaseMs: number): Promise<boolean>;
  /** Releases if still ours (same node and epoch); false otherwise. */
  release(key: string, nodeId: string, epoch: number): Promise<boolean>;
  /** Records codecs/resolution for the scheduler; ignored unless (nodeId, epoch) owns the key. */
  setMediaInfo(key: string, nodeId: string, epoch: number, media: StreamMediaInfo): Promise<void>;
  lookup(key: string): Promise<StreamOwner | null>;
  /** All live claims, without KEYS. */
  listStreams(): Promise<StreamOwner[]>;
  /** Creates or replaces the node's record with a TTL. */
  registerNode(info: NodeInfo, ttlMs: number): Promise<void>;
  unregisterNode(nodeId: string): Promise<void>;
  getNode(nodeId: string): Promise<NodeInfo | null>;
  /** All registered nodes whose TTL has not run out, without KEYS. */
  listNodes(): Promise<NodeInfo[]>;
  close(): Promise<void>;
}

// ---- Events (NATS subjects `sluice.v1.…`, one JSON Schema each) ----

export const Subject = {
  StreamPublished: 'sluice.v1.stream.published',
  StreamUnpublished: 'sluice.v1.stream.unpublished',
  SessionStarted: 'sluice.v1.session.started',
  SessionStopped: 'sluice.v1.session.stopped',
  RelayStarted: 'sluice.v1.relay.started',
  RelayStopped: 'sluice.v1.relay.stopped',
  NodeHeartbeat: 'sluice.v1.node.heartbeat',
} as const;
export type Subject = (typeof Subject)[keyof typeof Subject];

export const SessionKind = { Publisher: 'publisher', Player: 'player', Relay: 'relay' } as const;
export type SessionKind = (typeof SessionKind)[keyof typeof SessionKind];

/** Fields every event carries. `epoch` (where present) is the stream's fencing epoch. */
export interface EventBase {
  v: 1;
  nodeId: string;
  /** ms since epoch at the sender. */
  ts: number;
}

export interface StreamPublishedEvent extends EventBase {
  key: string;
  epoch: number;
  sessionId: string;
}
export interface StreamUnpublishedEvent extends EventBase {
  key: string;
  epoch: number;
  sessionId: string;
  reason: string;
}
export interface SessionStartedEvent extends EventBase {
  sessionId: string;
  kind: SessionKind;
  /** rtmp | http-flv | ws-flv (later ts, hls, rtsp) */
  protocol: string;
  key: string;
  remote: string;
  epoch?: number;
}
export interface SessionStoppedEvent extends SessionStartedEvent {
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  reason: string;
}
export interface RelayStartedEvent extends EventBase {
  key: string;
  /** The origin pulled from. */
  fromNodeId: string;
  epoch: number;
}
export interface RelayStoppedEvent extends RelayStartedEvent {
  reason: string;
}
export interface NodeHeartbeatEvent extends EventBase {
  role: NodeRole;
  load: NodeLoad;
  draining: boolean;
}

export interface EventMap {
  [Subject.StreamPublished]: StreamPublishedEvent;
  [Subject.StreamUnpublished]: StreamUnpublishedEvent;
  [Subject.SessionStarted]: SessionStartedEvent;
  [Subject.SessionStopped]: SessionStoppedEvent;
  [Subject.RelayStarted]: RelayStartedEvent;
  [Subject.RelayStopped]: RelayStoppedEvent;
  [Subject.NodeHeartbeat]: NodeHeartbeatEvent;
}

// ---- Control: request/reply addressed to one node (`sluice.v1.control.<nodeId>`) ----

export type ControlRequest =
  | { op: 'kick'; sessionId: string }
  | { op: 'relay.start'; key: string }
  | { op: 'relay.stop'; key: string }
  | { op: 'stats' };

export interface ControlReply {
  ok: boolean;
  error?: string;
  data?: unknown;
}

export interface EventBus {
  /** Validates against the subject's schema (throws on an invalid event: a bug) and sends. Never blocks on a down broker. */
  publish<S extends Subject>(subject: S, event: EventMap[S]): void;
  /** Every valid event on the subject; invalid ones are counted (`events_invalid`) and dropped. Returns unsubscribe. */
  subscribe<S extends Subject>(subject: S, handler: (event: EventMap[S]) => void): () => void;
  /** Answers control requests addressed to this node. Returns stop. */
  serveControl(nodeId: string, handler: (req: ControlRequest) => Promise<ControlReply>): () => void;
  /** Rejects on timeout or when nobody serves that node. */
  requestControl(nodeId: string, req: ControlRequest, timeoutMs: number): Promise<ControlReply>;
  readonly connected: boolean;
  close(): Promise<void>;
}
