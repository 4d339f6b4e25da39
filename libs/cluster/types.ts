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
  /** RTSP listener (absent when the node serves no RTSP). */
  rtsp?: string;
}

/** What a viewer can play from a node (the scheduler offers only these). */
export const PlayProtocol = {
  Rtmp: 'rtmp',
  Flv: 'flv',
  WsFlv: 'ws-flv',
  Ts: 'ts',
  Hls: 'hls',
  Rtsp: 'rtsp',
} as const;
export type PlayProtocol = (typeof PlayProtocol)[keyof typeof PlayProtocol];

/**
 * Who holds a claim or sends an event: the configured node name and the random id of this one
 * process (DESIGN "Time and identity"). Two processes configured with the same node id still
 * differ by instance, so neither can mistake the other's claim for its own.
 */
export interface Holder {
  nodeId: string;
  instanceId: string;
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

/**
 * A node's small record, rewritten every heartbeat with a TTL. Its per-stream presence is kept
 * apart (NodePresence), written only when it changes, so a heartbeat stays small however many
 * streams the node serves.
 */
export interface NodeInfo {
  nodeId: string;
  instanceId: string;
  role: NodeRole;
  /** Addresses other nodes use (relay pulls go to internal.rtmp). */
  internal: NodeAddresses;
  /** Addresses handed to viewers and publishers (play URLs). */
  public: NodeAddresses;
  /** What viewers can play here. */
  protocols: PlayProtocol[];
  load: NodeLoad;
  draining: boolean;
  /** ms since epoch, by the node's own clock: informational, never compared with another clock. */
  startedAt: number;
  updatedAt: number;
}

/** Which streams a node serves. `seq` increases with every change the node writes. */
export interface NodePresence {
  nodeId: string;
  instanceId: string;
  seq: number;
  streams: Record<string, NodeStreamInfo>;
}

/** A change of presence: new or changed entries, `null` for streams the node no longer serves. */
export type PresenceChanges = Record<string, NodeStreamInfo | null>;

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
  instanceId: string;
  /** Fencing epoch: increases on every successful claim of the key, never reused. */
  epoch: number;
  /** When this claim was made, by the registry's clock (ms since epoch). */
  since: number;
  /** Lease left when this was read, by the registry's clock (ms). */
  ttlMs: number;
  /** The owner's internal RTMP address for relay pulls ('' when it gave none). */
  relayAddr: string;
  media: StreamMediaInfo;
}

export type ClaimResult = { ok: true; epoch: number } | { ok: false; owner: StreamOwner | null };

export interface ClaimOptions {
  /** Stored with the claim so edges pull from this very process. */
  relayAddr?: string;
  /**
   * Take the key over from the claim with this epoch (its owner was proven dead) even though
   * its lease still runs; refused like a plain claim if the key has any other claim by then.
   */
  takeoverEpoch?: number;
}

/** What registering found under the node id: another instance's record means a duplicate id (or a restart). */
export interface RegisterResult {
  previousInstanceId: string | null;
}

/**
 * Stream ownership and node registration. Every method may reject when the store is down.
 * Leases are measured by the store alone (DESIGN "Time and identity"): no caller's clock is
 * ever compared with another's.
 */
export interface StreamRegistry {
  /** Atomically: claim if free (new epoch), else report the current owner. Re-claiming a live key held by the same instance returns ok with a NEW epoch. */
  claim(key: string, holder: Holder, leaseMs: number, opts?: ClaimOptions): Promise<ClaimResult>;
  /** Extends the lease; false when the claim is gone or is not (holder instance, epoch) any more (lost). */
  refresh(key: string, holder: Holder, epoch: number, leaseMs: number): Promise<boolean>;
  /** Releases if still ours (same instance and epoch); false otherwise. */
  release(key: string, holder: Holder, epoch: number): Promise<boolean>;
  /** Releases whatever claim this instance holds on `key`, any epoch (one whose claim reply was lost). */
  releaseAny(key: string, holder: Holder): Promise<boolean>;
  /** Records codecs/resolution for the scheduler; ignored unless (instance, epoch) owns the key. */
  setMediaInfo(key: string, holder: Holder, epoch: number, media: StreamMediaInfo): Promise<void>;
  lookup(key: string): Promise<StreamOwner | null>;
  /** All live claims, without KEYS. */
  listStreams(): Promise<StreamOwner[]>;
  /** Key -> epoch of every live claim, from the index alone (cheap; the index may lag a claim by one refresh). */
  listStreamEpochs(): Promise<Map<string, number>>;
  /** Creates or replaces the node's record with a TTL. */
  registerNode(info: NodeInfo, ttlMs: number): Promise<RegisterResult>;
  unregisterNode(holder: Holder): Promise<void>;
  getNode(nodeId: string): Promise<NodeInfo | null>;
  /** All registered nodes whose TTL has not run out, without KEYS. */
  listNodes(): Promise<NodeInfo[]>;
  /** Their ids only, from the index (cheap). */
  listNodeIds(): Promise<string[]>;
  /**
   * Applies presence changes as number `seq` and keeps the record alive for ttlMs. `full`
   * replaces the record (also another instance's under the same node id); a change to a record
   * that is missing or another instance's rejects, and the caller writes it in full.
   */
  writePresence(
    holder: Holder,
    seq: number,
    changes: PresenceChanges,
    full: boolean,
    ttlMs: number,
  ): Promise<void>;
  /** Keeps the presence record alive without changing it; false when it is gone (rewrite it in full). */
  touchPresence(holder: Holder, ttlMs: number): Promise<boolean>;
  getPresence(nodeId: string): Promise<NodePresence | null>;
  /**
   * Whether the process `instanceId` still has a connection to the store. A killed process's
   * connections are closed by its kernel at once, a hung one's stay: with "no responders" on
   * NATS this proves an owner dead. null when the store cannot tell.
   */
  instanceConnected(instanceId: string): Promise<boolean | null>;
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
  NodePresence: 'sluice.v1.node.presence',
  RecordStarted: 'sluice.v1.record.started',
  RecordStopped: 'sluice.v1.record.stopped',
} as const;
export type Subject = (typeof Subject)[keyof typeof Subject];

export const SessionKind = { Publisher: 'publisher', Player: 'player', Relay: 'relay' } as const;
export type SessionKind = (typeof SessionKind)[keyof typeof SessionKind];

/** Fields every event carries. `epoch` (where present) is the stream's fencing epoch. */
export interface EventBase {
  v: 1;
  nodeId: string;
  instanceId: string;
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
  /** rtmp | http-flv | ws-flv | http-ts | ws-ts | hls (rtsp later) */
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
/** The node's record (NodeInfo without updatedAt) plus the number of its last presence change. */
export interface NodeHeartbeatEvent extends EventBase {
  role: NodeRole;
  internal: NodeAddresses;
  public: NodeAddresses;
  protocols: PlayProtocol[];
  load: NodeLoad;
  draining: boolean;
  startedAt: number;
  presenceSeq: number;
}
/** One numbered change of a node's presence (large changes are split over several). */
export interface NodePresenceEvent extends EventBase {
  seq: number;
  streams: PresenceChanges;
}

/** A node opened a recording file for a stream published to it. */
export interface RecordStartedEvent extends EventBase {
  key: string;
  format: 'flv' | 'ts' | 'hls';
  /** Absolute path on the recording node. */
  path: string;
  /** The publish session that started the file. */
  sessionId: string;
}
/** A recording file was closed (unpublished, stream ended, shutdown, or a write error). */
export interface RecordStoppedEvent extends RecordStartedEvent {
  bytes: number;
  /** Media time the file covers. */
  durationMs: number;
  /** Frames left out because the disk did not keep up. */
  droppedFrames: number;
  reason: string;
}

export interface EventMap {
  [Subject.StreamPublished]: StreamPublishedEvent;
  [Subject.StreamUnpublished]: StreamUnpublishedEvent;
  [Subject.SessionStarted]: SessionStartedEvent;
  [Subject.SessionStopped]: SessionStoppedEvent;
  [Subject.RelayStarted]: RelayStartedEvent;
  [Subject.RelayStopped]: RelayStoppedEvent;
  [Subject.NodeHeartbeat]: NodeHeartbeatEvent;
  [Subject.NodePresence]: NodePresenceEvent;
  [Subject.RecordStarted]: RecordStartedEvent;
  [Subject.RecordStopped]: RecordStoppedEvent;
}

// ---- Control: request/reply addressed to one node (`sluice.v1.control.<nodeId>`) ----

export type ControlRequest =
  | { op: 'kick'; sessionId: string }
  | { op: 'relay.start'; key: string }
  | { op: 'relay.stop'; key: string }
  /** A relay pull into `key` on an origin (lal start_relay_pull, forwarded by the scheduler). */
  | ({ op: 'relay.pull.start' } & ControlRelayPull)
  | { op: 'relay.pull.stop'; key: string }
  | { op: 'stats' }
  /** Liveness: answered by the node's event loop (a hung process times out, a dead one has no responders). */
  | { op: 'ping' };

/** The fields of a relay pull request (services/node/control-types.ts RelayPullRequest). */
export interface ControlRelayPull {
  url: string;
  key: string;
  retryNum: number;
  autoStopAfterNoViewersMs: number;
  timeoutMs: number;
  rtspTransport: 'tcp' | 'udp';
}

/** Why a control operation was refused, when it says (relay.pull.*). */
export type ControlRefusal = 'invalid' | 'exists' | 'not_found' | 'busy' | 'refused';

/** A node by its id (any process configured with it), or one process by its instance id. */
export type ControlTarget = string | { instanceId: string };

export interface ControlReply {
  ok: boolean;
  error?: string;
  code?: ControlRefusal;
  data?: unknown;
}

export interface EventBus {
  /** Validates against the subject's schema (throws on an invalid event: a bug) and sends. Never blocks on a down broker. */
  publish<S extends Subject>(subject: S, event: EventMap[S]): void;
  /** Every valid event on the subject; invalid ones are counted (`events_invalid`) and dropped. Returns unsubscribe. */
  subscribe<S extends Subject>(subject: S, handler: (event: EventMap[S]) => void): () => void;
  /**
   * Like subscribe, but each event goes to one member only of the queue group `queue` (a NATS
   * queue group across processes): work done once however many replicas listen. Returns unsubscribe.
   */
  subscribeQueue<S extends Subject>(
    subject: S,
    queue: string,
    handler: (event: EventMap[S]) => void,
  ): () => void;
  /** Answers control requests addressed to `target` (a node id, or this process's instance id). Returns stop. */
  serveControl(target: ControlTarget, handler: (req: ControlRequest) => Promise<ControlReply>): () => void;
  /** Rejects on timeout or when nobody serves that node (ControlError NoResponders). */
  requestControl(to: ControlTarget, req: ControlRequest, timeoutMs: number): Promise<ControlReply>;
  readonly connected: boolean;
  close(): Promise<void>;
}
