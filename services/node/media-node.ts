import { join } from 'node:path';
import type { RecordFileEnd, RecordFileInfo } from '../../libs/record/record-file.ts';
import type { Logger } from 'pino';
import { formatListen, parseListen } from '../../libs/config/listen.ts';
import { ListenError } from '../../libs/http/listen.ts';
import { checkAll, ConfigError } from '../../libs/config/load.ts';
import { InputBudget } from '../../libs/limits/input-budget.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { Metrics } from '../../libs/metrics/metrics.ts';
import { EventLoopDelay } from '../../libs/metrics/event-loop-delay.ts';
import { HeapAfterGc } from '../../libs/metrics/heap-after-gc.ts';
import { PROCESS_GAUGE_HELP } from '../../libs/metrics/process-gauge-help.ts';
import { processGauges } from '../../libs/metrics/process-gauges.ts';
import { StreamHub, type Stream, type StreamOptions } from '../../libs/stream/index.ts';
import { DiskSegmentStore } from '../../libs/hls/store-disk.ts';
import { MemorySegmentStore } from '../../libs/hls/store-memory.ts';
import { TsMuxer } from '../../libs/mpegts/muxer.ts';
import { HlsHttp } from './hls-http.ts';
import { HlsOutputs } from './hls-outputs.ts';
import { HlsSessions } from './hls-sessions.ts';
import { ApiServer, type NodeHealth } from './api-server.ts';
import { ConsoleHttp, nodeConsoleEnv } from './console-http.ts';
import { registerNodeMetrics, type PerStreamMetricsConfig } from './node-metrics.ts';
import { ConnectionLimiter } from './connection-limiter.ts';
import { HttpMediaServer } from './http-server.ts';
import { RtmpServer } from './rtmp-server.ts';
import { PublishGate } from './publish-gate.ts';
import { RtspAuthenticator } from '../../libs/rtsp/index.ts';
import type { RtspConfig } from './rtsp/context.ts';
import { RtspServer } from './rtsp/server.ts';
import { UdpPorts } from './rtsp/udp-ports.ts';
import { checkRtspPulls, staticPullOf, type RtspPullConfig } from './rtsp/pull.ts';
import { checkRelayConfig, type RelayConfig } from './relay/config.ts';
import { RelayPulls } from './relay/pull-manager.ts';
import { RelayPushes } from './relay/push-manager.ts';
import { isPullProtocol } from './relay/source.ts';
import type { RelayPullControl, RelayPushControl } from './control-types.ts';
import type { RelayWatchable } from './relay/watchers.ts';
import type {
  NodeHooks,
  NodeObserver,
  PlayDecision,
  PlayRequest,
  RelayPullEnd,
  RelayPullInfo,
} from './hooks.ts';
import { readTlsListeners, type TlsListenerConfig } from './tls-files.ts';
import type { RecordConfig } from './record-config.ts';
import { Recording } from './recording.ts';
import type { NodeLoad } from '../../libs/cluster/types.ts';
import { tokensOf } from './api/auth.ts';
import { SessionTable } from './api/sessions.ts';
import type { WebhooksConfig } from './webhook-config.ts';
import { StatusCode } from '../../libs/rtmp/commands.ts';
import type { AuthConfig } from './auth/auth-config.ts';
import { Authorizer } from './auth/authorizer.ts';
import { RELAY_CREDENTIAL_PROP } from './cluster-config.ts';

/** The media-serving part every node role shares (standalone, origin, edge). */
export interface MediaNodeConfig {
  nodeId: string;
  rtmp: {
    enabled: boolean;
    listen: string;
    outChunkSize: number;
    maxInChunkSize: number;
    maxMessageBytes: number;
    nodeInputBufferBytes: number;
    complexHandshake: boolean;
  };
  /** RTMP on TLS; absent in configs made before it existed (then off). */
  rtmps?: TlsListenerConfig;
  http: { enabled: boolean; listen: string; cors: boolean };
  /** RTSP; absent in configs made before it existed (then off). `pulls`: standalone and origin only. */
  rtsp?: RtspConfig & { pulls?: RtspPullConfig[] };
  /** RTSP on TLS; absent = off. */
  rtsps?: TlsListenerConfig;
  /** What the HTTP listener serves, on TLS (HTTPS, WSS); absent = off. */
  https?: TlsListenerConfig;
  /** `token`: accepted bearer token(s) for control (and stats with protectStats); absent = none. */
  api: { enabled: boolean; listen: string; token?: string | string[]; protectStats?: boolean };
  limits: {
    maxConnections: number;
    handshakeTimeoutMs: number;
    idleTimeoutMs: number;
    publishIdleTimeoutMs: number;
    publishAuthTimeoutMs: number;
  };
  stream: { gopCache: boolean; gopCacheMaxBytes: number; waitPublisherMs: number };
  viewer: { maxBufferedBytes: number; stallTimeoutMs: number; writeCoalesceMs: number };
  metrics: { perStream: PerStreamMetricsConfig };
  drain: { timeoutMs: number };
  /** Absent in configs made before it existed (then off). */
  webhooks?: WebhooksConfig;
  hls: HlsConfig;
  /** Nodes with publishers (standalone, origin); edges have none and never record. */
  record?: RecordConfig;
  /** Publish and play authorization; absent in configs made before it existed (then none). */
  auth?: AuthConfig;
}

/** What only the roles with publishers have (not in MediaNodeConfig: an edge's `relay` is its own). */
export interface PublishingExtras {
  /** relay.pulls and relay.pushes; absent: the node neither pulls (but rtsp.pulls) nor pushes. */
  relay?: RelayConfig;
}

export interface HlsConfig {
  enabled: boolean;
  targetMs: number;
  maxSegmentMs: number;
  listSize: number;
  maxSegmentBytes: number;
  store: 'memory' | 'disk';
  dir: string;
  cleanupMode: 0 | 1 | 2;
  deleteThreshold: number;
  keepAfterEndMs: number;
  sessionTimeoutMs: number;
  firstPlaylistWaitMs: number;
  maxSessions: number;
  maxSessionsPerClient: number;
}

export interface ListeningAddresses {
  rtmp?: string;
  rtmps?: string;
  http?: string;
  https?: string;
  api?: string;
  rtsp?: string;
  rtsps?: string;
}

/** How long shutdown lets final statuses reach viewers before closing sockets. */
const SHUTDOWN_FLUSH_MS = 100;

/** How long stop() waits for destroyed sessions to report their end. */
const SESSIONS_SETTLE_MS = 1000;

/** How often the drain looks whether every session has left. */
const DRAIN_POLL_MS = 200;

/** Window acknowledgement size we announce (what FMS and most servers use). */
const WINDOW_ACK_SIZE = 2_500_000;

export class MediaNode {
  readonly hub: StreamHub;
  /** This node's metrics registry (its own: several nodes may share a process in tests). */
  readonly metrics = new Metrics();
  readonly counters: Counters = this.metrics.counters;
  /** RTMP input held before it forms complete messages, all connections together. */
  readonly input: InputBudget;
  private readonly log: Logger;
  private readonly cfg: MediaNodeConfig;
  private readonly rtmp: RtmpServer | null;
  private readonly http: HttpMediaServer | null;
  private readonly https: HttpMediaServer | null;
  private readonly tls: ReturnType<typeof readTlsListeners<'rtmps' | 'https' | 'rtsps'>>;
  private readonly rtsp: RtspServer | null;
  /**
   * Relay pulls (relay.pulls, rtsp.pulls, the API) and pushes (relay.pushes, the API). Null on
   * edges: an edge's streams come from their owners (its own relays), so it neither pulls into
   * keys nor pushes them (push from the origin that owns the stream instead).
   */
  readonly relayPulls: (RelayPullControl & RelayWatchable) | null;
  readonly relayPushes: (RelayPushControl & RelayWatchable) | null;
  private readonly pullManager: RelayPulls | null;
  private readonly pushManager: RelayPushes | null;
  private readonly api: ApiServer | null;
  /** What start() bound so far (the console's play URLs need the HTTP port). */
  private listeningAt: ListeningAddresses = {};
  private readonly recording: Recording | null;
  private listening = false;
  private draining = false;
  /** Cluster links readiness waits for (registry, bus), added by the cluster roles. */
  private readonly readinessChecks = new Map<string, () => boolean>();
  private readonly sessionsByKind = { publisher: 0, player: 0, relay: 0 };
  /** Publishers that are this node's own relay pulls (counted in `publisher` too). */
  private pullSessions = 0;
  private readonly loopDelay = new EventLoopDelay();
  private readonly heapAfterGc = new HeapAfterGc();
  /** Run for every new hub stream (taps: HLS, recording). */
  private readonly streamSetups: ((s: Stream) => void)[] = [];
  private hlsOutputs: HlsOutputs | null = null;
  private hlsSessions: HlsSessions | null = null;
  private readonly rateBase = { at: Date.now(), bytesIn: 0, bytesOut: 0, cpu: process.cpuUsage() };
  /** Watchers of sessions and recordings (MediaNode.observe). */
  private readonly observers: NodeObserver[] = [];
  /** Run at the end of stop() (MediaNode.onStopped). */
  private readonly stopTasks: (() => Promise<void>)[] = [];
  /** Sessions with bytes and rates for the HTTP API. */
  readonly sessionTable: SessionTable;
  /** The role's hooks wrapped with the node's own bookkeeping and the observers. */
  private readonly hooks: NodeHooks;
  /** The `auth` checks (null: none configured). */
  private readonly auth: Authorizer | null;

  /** `hooks` shape the node for its role; session counts for load reports are kept here. */
  constructor(cfg: MediaNodeConfig, log: Logger, roleHooks: NodeHooks = {}, extras: PublishingExtras = {}) {
    checkMediaNodeConfig(cfg, extras);
    this.cfg = cfg;
    this.log = log;
    // Before anything else: an enabled TLS listener without usable files is a config error.
    this.tls = readTlsListeners({ rtmps: cfg.rtmps, https: cfg.https, rtsps: cfg.rtsps });
    const auth = cfg.auth
      ? new Authorizer(cfg.auth, {
          nodeId: cfg.nodeId,
          counters: this.counters,
          log: log.child({ component: 'auth' }),
        })
      : null;
    this.auth = auth;
    const hooks: NodeHooks = {
      ...roleHooks,
      // Draining: existing sessions go on, new ones are refused (RTMP status, HTTP 503).
      authorizePublish: async (req, kick) => {
        if (this.draining) {
          this.counters.inc('sessions_refused_draining', 1, { proto: req.protocol });
          return {
            ok: false,
            code: 'draining',
            description: 'this node is shutting down; publish again (the scheduler knows another node)',
          };
        }
        // The node's own pulls (relay.pulls, rtsp.pulls, the API's) are not clients: never checked.
        if (auth && !isPullProtocol(req.protocol)) {
          const r = await auth.check({ action: 'publish', ...req });
          if (!r.ok) {
            return { ok: false, code: StatusCode.PublishUnauthorized, description: `unauthorized: ${r.why}` };
          }
          if (this.draining)
            return { ok: false, code: 'draining', description: 'this node is shutting down' };
        }
        return roleHooks.authorizePublish?.(req, kick) ?? { ok: true };
      },
      authorizePlay: (req) => {
        if (this.draining) {
          this.counters.inc('sessions_refused_draining', 1, { proto: req.protocol });
          return {
            ok: false,
            status: 503,
            description: 'this node is shutting down; play from another node',
          };
        }
        return this.authorizePlay(req, roleHooks);
      },
      sessionStarted: (s) => {
        this.sessionsByKind[s.kind]++;
        if (isPullProtocol(s.protocol)) this.pullSessions++;
        roleHooks.sessionStarted?.(s);
        this.notify('sessionStarted', (o) => o.sessionStarted?.(s));
      },
      sessionStopped: (s) => {
        this.sessionsByKind[s.kind]--;
        if (isPullProtocol(s.protocol)) this.pullSessions--;
        roleHooks.sessionStopped?.(s);
        this.notify('sessionStopped', (o) => o.sessionStopped?.(s));
      },
      publishMediaInfo: (key, sessionId, media) => {
        roleHooks.publishMediaInfo?.(key, sessionId, media);
        this.notify('publishMediaInfo', (o) => o.publishMediaInfo?.(key, sessionId, media));
      },
      recordStarted: (r) => {
        roleHooks.recordStarted?.(r);
        this.notify('recordStarted', (o) => o.recordStarted?.(r));
      },
      recordStopped: (r) => {
        roleHooks.recordStopped?.(r);
        this.notify('recordStopped', (o) => o.recordStopped?.(r));
      },
      rtmpConnect: (c) => {
        roleHooks.rtmpConnect?.(c);
        this.notify('rtmpConnect', (o) => o.rtmpConnect?.(c));
      },
      hlsSegment: (seg) => {
        roleHooks.hlsSegment?.(seg);
        this.notify('hlsSegment', (o) => o.hlsSegment?.(seg));
      },
      relayPullStarted: (r) => {
        roleHooks.relayPullStarted?.(r);
        this.notify('relayPullStarted', (o) => o.relayPullStarted?.(r));
      },
      relayPullStopped: (r) => {
        roleHooks.relayPullStopped?.(r);
        this.notify('relayPullStopped', (o) => o.relayPullStopped?.(r));
      },
    };
    this.hooks = hooks;
    const streamOpts: StreamOptions = {
      gopCache: cfg.stream.gopCache,
      gopCacheMaxBytes: cfg.stream.gopCacheMaxBytes,
      waitPublisherMs: cfg.stream.waitPublisherMs,
      maxBufferedBytes: cfg.viewer.maxBufferedBytes,
      stallTimeoutMs: cfg.viewer.stallTimeoutMs,
      writeCoalesceMs: cfg.viewer.writeCoalesceMs,
      // As a stream's owner this node decides its HLS cuts (edges follow the origin's marks).
      segmentTargetMs: cfg.hls.enabled ? cfg.hls.targetMs : 0,
      segmentMaxMs: cfg.hls.maxSegmentMs || 3 * cfg.hls.targetMs,
    };
    this.hub = new StreamHub(streamOpts, { log: log.child({ component: 'hub' }), counters: this.counters });
    this.sessionTable = new SessionTable(this.hub);
    this.observe(this.sessionTable);
    this.hub.onStreamCreated = (s) => {
      for (const setup of this.streamSetups) setup(s);
    };
    const rec = cfg.record;
    const recording =
      rec && (rec.flv.enabled || rec.ts.enabled)
        ? new Recording(rec, {
            log,
            counters: this.counters,
            started: (r) => hooks.recordStarted?.(r),
            stopped: (r) => hooks.recordStopped?.(r),
          })
        : null;
    if (recording) this.streamSetups.push((s) => recording.attach(s));
    this.recording = recording;
    const limiter = new ConnectionLimiter(cfg.limits.maxConnections);
    // One HLS handler behind both HTTP listeners (playlists and segments over HTTP and HTTPS).
    const hlsHttp =
      cfg.hls.enabled && (cfg.http.enabled || this.tls.https) ? this.makeHls(cfg, log, hooks) : null;
    this.input = new InputBudget(cfg.rtmp.nodeInputBufferBytes);
    const gate = new PublishGate({
      hooks,
      counters: this.counters,
      timeoutMs: cfg.limits.publishAuthTimeoutMs,
    });
    this.rtmp =
      cfg.rtmp.enabled || this.tls.rtmps
        ? new RtmpServer({
            hub: this.hub,
            log,
            counters: this.counters,
            limiter,
            hooks,
            gate,
            options: {
              outChunkSize: cfg.rtmp.outChunkSize,
              limits: { maxChunkSize: cfg.rtmp.maxInChunkSize, maxMessageSize: cfg.rtmp.maxMessageBytes },
              complexHandshake: cfg.rtmp.complexHandshake,
              handshakeTimeoutMs: cfg.limits.handshakeTimeoutMs,
              idleTimeoutMs: cfg.limits.idleTimeoutMs,
              publishIdleTimeoutMs: cfg.limits.publishIdleTimeoutMs,
              windowAckSize: WINDOW_ACK_SIZE,
              inputBudget: this.input,
            },
          })
        : null;
    this.rtsp =
      cfg.rtsp && (cfg.rtsp.enabled || this.tls.rtsps)
        ? this.makeRtsp(cfg, cfg.rtsp, log, hooks, gate, limiter)
        : null;
    const rtspPulls = cfg.rtsp?.pulls ?? [];
    const relay = extras.relay;
    if (relay || rtspPulls.length > 0) {
      const relayLog = log.child({ component: 'relay' });
      const pulls = new RelayPulls([...rtspPulls.map(staticPullOf), ...(relay?.pulls ?? [])], {
        hub: this.hub,
        gate,
        hooks,
        counters: this.counters,
        log: relayLog,
      });
      const pushes = new RelayPushes(relay?.pushes ?? [], {
        hub: this.hub,
        counters: this.counters,
        log: relayLog,
      });
      this.hub.onViewersChanged = (s) => pulls.viewersChanged(s);
      this.streamSetups.push((s) => pushes.attach(s));
      this.pullManager = pulls;
      this.pushManager = pushes;
    } else {
      this.pullManager = null;
      this.pushManager = null;
    }
    this.relayPulls = this.pullManager;
    this.relayPushes = this.pushManager;
    const httpDeps = {
      hub: this.hub,
      log,
      counters: this.counters,
      limiter,
      cors: cfg.http.cors,
      hooks,
      hls: hlsHttp,
    };
    this.http = cfg.http.enabled ? new HttpMediaServer(httpDeps) : null;
    this.https = this.tls.https
      ? new HttpMediaServer({
          ...httpDeps,
          tls: { credentials: this.tls.https, handshakeTimeoutMs: cfg.limits.handshakeTimeoutMs },
        })
      : null;
    this.api = cfg.api.enabled
      ? new ApiServer({
          hub: this.hub,
          counters: this.counters,
          log,
          nodeId: cfg.nodeId,
          metrics: this.metrics,
          health: () => this.health(),
          sessions: () => ({ ...this.sessionsByKind }),
          input: this.input,
          connections: () => ({ active: limiter.count, max: cfg.limits.maxConnections }),
          gauges: () => this.gauges(),
          auth: {
            tokens: tokensOf(cfg.api.token),
            protectStats: cfg.api.protectStats ?? false,
          },
          table: this.sessionTable,
          kick: (id, reason) => this.kick(id, reason),
          // The relay code sets these on the node (nullable); read at each call.
          relayPulls: () => this.relayPulls,
          relayPushes: () => this.relayPushes,
          console: new ConsoleHttp({
            log,
            redirectRoot: true,
            env: () => nodeConsoleEnv(cfg.nodeId, this.listeningAt),
          }),
        })
      : null;
    registerNodeMetrics(this.metrics, {
      tls: { rtmps: this.tls.rtmps !== undefined, https: this.tls.https !== undefined },
      hub: this.hub,
      limiter,
      input: this.input,
      sessions: () => ({ ...this.sessionsByKind }),
      state: () => ({ ready: this.isReady, draining: this.draining }),
      perStream: cfg.metrics?.perStream ?? { enabled: false, maxStreams: 0 },
    });
    this.metrics.gaugeRecord(
      () => ({ ...this.loopDelay.secondsGauges(), ...processGauges(), ...this.heapAfterGc.gauges() }),
      PROCESS_GAUGE_HELP,
    );
  }

  /**
   * Viewer authorization, then the role's decision. A request carrying the cluster's relay
   * credential is the role's alone: only the role's `relay` answer skips the viewer checks (a
   * viewer that sends the property without the secret is refused by the role, or checked as a
   * viewer where the role has no relay gate).
   */
  private async authorizePlay(req: PlayRequest, role: NodeHooks): Promise<PlayDecision> {
    const auth = this.auth;
    const roleSays = (): PlayDecision | Promise<PlayDecision> =>
      role.authorizePlay?.(req) ?? { ok: true, kind: 'player' };
    if (!auth) return roleSays();
    let early: PlayDecision | null = null;
    if (req.connectProps[RELAY_CREDENTIAL_PROP] !== undefined) {
      early = await roleSays();
      if (!early.ok || early.kind === 'relay') return early;
    }
    const r = await auth.check({ action: 'play', ...req });
    if (!r.ok) {
      return {
        ok: false,
        status: r.status,
        code: StatusCode.PlayUnauthorized,
        description: `unauthorized: ${r.why}`,
      };
    }
    if (this.draining) return { ok: false, status: 503, description: 'this node is shutting down' };
    return early ?? roleSays();
  }

  /** Whether viewers of `protocol` are checked (HLS segments then need the playlist's session). */
  playChecked(protocol: string): boolean {
    return this.auth?.covers('play', protocol) ?? false;
  }

  /** Runs `fn` at the end of stop(), after every session ended (webhooks deliver their stop events). */
  onStopped(fn: () => Promise<void>): void {
    this.stopTasks.push(fn);
  }

  /** Adds a watcher of sessions and recordings (the API's session table, webhooks). */
  observe(o: NodeObserver): void {
    this.observers.push(o);
  }

  /**
   * A pull into this node went live (an edge's relay, a relay pull started by the API): the one
   * place on_relay_pull_start comes from. RTSP pulls (rtsp.pulls) are sessions and need not call it.
   */
  relayPullStarted(r: RelayPullInfo): void {
    this.hooks.relayPullStarted?.(r);
  }

  relayPullStopped(r: RelayPullEnd): void {
    this.hooks.relayPullStopped?.(r);
  }

  private notify(what: string, call: (o: NodeObserver) => void): void {
    for (const o of this.observers) {
      try {
        call(o);
      } catch (err) {
        this.log.error({ err, what }, 'session observer failed');
      }
    }
  }

  /** Event-loop delay (ms), process memory and heap after the last full GC, for stats. */
  private gauges(): Record<string, number> {
    return { ...this.loopDelay.gauges(), ...processGauges(), ...this.heapAfterGc.gauges() };
  }

  get isReady(): boolean {
    return this.health().ready;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Readiness also waits for `check` (a cluster link: registry, bus) to hold. */
  addReadinessCheck(name: string, check: () => boolean): void {
    this.readinessChecks.set(name, check);
  }

  health(): NodeHealth {
    const checks: Record<string, boolean> = { listening: this.listening };
    for (const [name, check] of this.readinessChecks) checks[name] = check();
    checks.draining = this.draining;
    const up = Object.entries(checks).every(([k, v]) => k === 'draining' || v);
    if (this.draining) return { ready: false, status: 'draining', checks };
    if (up) return { ready: true, status: 'ready', checks };
    return { ready: false, status: this.listening ? 'unready' : 'starting', checks };
  }

  /** Ends a session by id (control "kick"): RTMP and RTSP connections, HTTP, WebSocket and HLS viewers. */
  kick(sessionId: string, reason: string): boolean {
    return (
      (this.rtmp?.kick(sessionId, reason) ?? false) ||
      (this.rtsp?.kick(sessionId, reason) ?? false) ||
      this.hub.kick(sessionId)
    );
  }

  /** Ends the relay pulls of `key` this node serves (an origin that fenced itself). */
  endRelays(key: string, reason: string): number {
    return this.rtmp?.kickRelays(key, reason) ?? 0;
  }

  /** Load since the previous call: sessions by kind, byte rates, process CPU (for heartbeats). */
  sampleLoad(): NodeLoad {
    const now = Date.now();
    const cpu = process.cpuUsage();
    const dtMs = Math.max(1, now - this.rateBase.at);
    const cpuMicros = cpu.user - this.rateBase.cpu.user + (cpu.system - this.rateBase.cpu.system);
    const load: NodeLoad = {
      publishers: this.sessionsByKind.publisher,
      players: this.sessionsByKind.player,
      relays: this.sessionsByKind.relay,
      bytesInPerSec: Math.round(((this.hub.totals.bytesIn - this.rateBase.bytesIn) * 1000) / dtMs),
      bytesOutPerSec: Math.round(((this.hub.totals.bytesOut - this.rateBase.bytesOut) * 1000) / dtMs),
      cpuPercent: Math.round((cpuMicros / 1000 / dtMs) * 100),
      maxConnections: this.cfg.limits.maxConnections,
    };
    this.rateBase.at = now;
    this.rateBase.bytesIn = this.hub.totals.bytesIn;
    this.rateBase.bytesOut = this.hub.totals.bytesOut;
    this.rateBase.cpu = cpu;
    return load;
  }

  /** Not ready (readyz 503) while draining; listeners keep running. */
  setDraining(): void {
    this.draining = true;
  }

  async start(): Promise<ListeningAddresses> {
    const out: ListeningAddresses = (this.listeningAt = {});
    const bind = async (
      name: keyof ListeningAddresses,
      srv: { listen(h: string, p: number): Promise<{ host: string; port: number }> } | null,
      listen: string,
    ): Promise<void> => {
      if (!srv) return;
      const l = parseListen(listen);
      try {
        out[name] = formatListen(await srv.listen(l.host, l.port));
      } catch (e) {
        throw new ListenError(`${name}.listen`, listen, e);
      }
    };
    // API first so health checks answer "starting" while media listeners come up.
    await bind('api', this.api, this.cfg.api.listen);
    // One RtmpServer serves both RTMP listeners (one set of sessions); either may be off.
    const { rtmp } = this;
    const rtmps = this.tls.rtmps;
    await bind('rtmp', this.cfg.rtmp.enabled ? rtmp : null, this.cfg.rtmp.listen);
    await bind(
      'rtmps',
      rtmp && rtmps ? { listen: (h, p) => rtmp.listenTls(h, p, rtmps) } : null,
      this.cfg.rtmps?.listen ?? '',
    );
    const { rtsp } = this;
    const rtsps = this.tls.rtsps;
    await bind('rtsp', this.cfg.rtsp?.enabled ? rtsp : null, this.cfg.rtsp?.listen ?? '');
    await bind(
      'rtsps',
      rtsp && rtsps ? { listen: (h, p) => rtsp.listenTls(h, p, rtsps) } : null,
      this.cfg.rtsps?.listen ?? '',
    );
    await bind('http', this.http, this.cfg.http.listen);
    await bind('https', this.https, this.cfg.https?.listen ?? '');
    this.listening = true;
    this.log.info({ listen: out }, 'sluice node listening');
    this.pullManager?.startStatic();
    return out;
  }

  /**
   * Resolves once no publisher, player or relay pull is left, or after `timeoutMs` (false then).
   * Used by the drain: sessions go on while the scheduler sends newcomers elsewhere.
   */
  async waitSessionsGone(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    // The node's own pulls are no clients to wait for: they end with the node, after its viewers.
    const left = (): number => {
      const k = this.sessionsByKind;
      return k.publisher - this.pullSessions + k.player + k.relay;
    };
    while (left() > 0) {
      if (performance.now() >= deadline) {
        this.log.info({ sessions: { ...this.sessionsByKind }, timeoutMs }, 'drain timeout: closing the rest');
        return false;
      }
      await new Promise((r) =>
        setTimeout(r, Math.min(DRAIN_POLL_MS, Math.max(1, deadline - performance.now()))),
      );
    }
    return true;
  }

  private sessionCount(): number {
    const k = this.sessionsByKind;
    return k.publisher + k.player + k.relay;
  }

  get drainTimeoutMs(): number {
    return this.cfg.drain?.timeoutMs ?? 0;
  }

  private makeRtsp(
    cfg: MediaNodeConfig,
    rc: RtspConfig,
    log: Logger,
    hooks: NodeHooks,
    gate: PublishGate,
    limiter: ConnectionLimiter,
  ): RtspServer {
    const authOf = (creds: { username: string; password: string }[]): RtspAuthenticator | null =>
      creds.length
        ? new RtspAuthenticator({ realm: rc.auth.realm, methods: rc.auth.methods, credentials: creds })
        : null;
    const rtspLog = log.child({ component: 'rtsp' });
    return new RtspServer(
      {
        hub: this.hub,
        hooks,
        gate,
        counters: this.counters,
        log: rtspLog,
        udp: rc.udp.enabled ? new UdpPorts({ min: rc.udp.portMin, max: rc.udp.portMax }, '0.0.0.0') : null,
        publishAuth: authOf(rc.auth.publish),
        playAuth: authOf(rc.auth.play),
        sessionTimeoutS: rc.sessionTimeoutS,
        waitPublisherMs: cfg.stream.waitPublisherMs,
        idleTimeoutMs: cfg.limits.idleTimeoutMs,
        publishIdleTimeoutMs: cfg.limits.publishIdleTimeoutMs,
      },
      limiter,
      cfg.limits.handshakeTimeoutMs,
    );
  }

  private makeHls(cfg: MediaNodeConfig, log: Logger, hooks: NodeHooks): HlsHttp {
    const hlsLog = log.child({ component: 'hls' });
    const store =
      cfg.hls.store === 'disk'
        ? new DiskSegmentStore({
            root: cfg.hls.dir,
            log: hlsLog,
            onError: (_key, e) => this.counters.inc('hls_store_errors', 1, { op: e.op, code: e.code }),
          })
        : new MemorySegmentStore();
    const outputs = new HlsOutputs({
      cfg: cfg.hls,
      log: hlsLog,
      counters: this.counters,
      store,
      newMuxer: () => new TsMuxer(),
      endAfterMs: cfg.stream.waitPublisherMs,
      segments: (seg) => hooks.hlsSegment?.(seg),
      ...(store instanceof DiskSegmentStore
        ? {
            segmentFiles: {
              dirOf: (app: string, name: string) => join(store.root, app, name),
              opened: (r: RecordFileInfo) => hooks.recordStarted?.(r),
              closed: (r: RecordFileEnd) => hooks.recordStopped?.(r),
            },
          }
        : {}),
    });
    this.hlsOutputs = outputs;
    this.streamSetups.push((s) => outputs.attach(s));
    const sessions = new HlsSessions({
      hub: this.hub,
      hooks,
      counters: this.counters,
      log: hlsLog,
      timeoutMs: cfg.hls.sessionTimeoutMs,
      limits: { maxSessions: cfg.hls.maxSessions, maxPerClient: cfg.hls.maxSessionsPerClient },
    });
    this.hlsSessions = sessions;
    return new HlsHttp({
      outputs,
      sessions,
      hooks,
      counters: this.counters,
      log: hlsLog,
      firstPlaylistWaitMs: cfg.hls.firstPlaylistWaitMs,
      segmentsNeedSession: this.playChecked('hls'),
      clientAllowed: (remote) => this.auth?.addressAllowed('play', 'hls', remote) ?? true,
      segmentMaxAgeS: Math.max(
        60,
        Math.ceil((cfg.hls.keepAfterEndMs + cfg.hls.targetMs * cfg.hls.listSize) / 1000),
      ),
    });
  }

  /** Not ready, stop accepting, end viewers and publishers, close. */
  async stop(): Promise<void> {
    this.draining = true;
    // Pulls first: closed at their sources and their claims given back (bounded by the clients).
    this.pushManager?.stopAll();
    await this.pullManager?.stopAll();
    // Recordings are closed as files first (their queues go on being written meanwhile).
    const recorded = this.recording?.stop();
    // Viewers first, so each gets a proper ending (503, UnpublishNotify), and a moment to flush it.
    this.hlsSessions?.closeAll('shutdown');
    this.hub.close();
    this.hlsOutputs?.close();
    await new Promise((r) => setTimeout(r, SHUTDOWN_FLUSH_MS));
    await recorded;
    const closing: Promise<void>[] = [];
    if (this.rtmp) closing.push(this.rtmp.close());
    if (this.rtsp) closing.push(this.rtsp.close());
    if (this.http) closing.push(this.http.close());
    if (this.https) closing.push(this.https.close());
    this.rtmp?.destroyAll();
    this.rtsp?.destroyAll();
    await Promise.all(closing);
    // Destroyed sockets report their close a turn later: let every session end (and its stop
    // event go out) before the stop tasks (webhook delivery) run.
    const settleBy = performance.now() + SESSIONS_SETTLE_MS;
    while (this.sessionCount() > 0 && performance.now() < settleBy) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(
      this.stopTasks.map((t) => t().catch((err: unknown) => this.log.error({ err }, 'stop task failed'))),
    );
    await this.api?.close();
    this.sessionTable.close();
    this.loopDelay.stop();
    this.heapAfterGc.stop();
  }
}

/**
 * The rules across fields a schema cannot say, checked at startup and by --check-config: every
 * problem is reported together (ConfigError).
 */
export function checkMediaNodeConfig(cfg: MediaNodeConfig, extras: PublishingExtras = {}): void {
  const rtspPulls = cfg.rtsp?.pulls ?? [];
  checkAll([
    () => checkHlsConfig(cfg.hls),
    () => checkRtspUdp(cfg.rtsp),
    () => checkRtspPulls(rtspPulls),
    () => {
      if (extras.relay)
        checkRelayConfig(
          extras.relay,
          rtspPulls.map((p) => p.key),
        );
    },
  ]);
}

function checkRtspUdp(rc: RtspConfig | undefined): void {
  if (rc?.udp.enabled && rc.udp.portMax <= rc.udp.portMin) {
    throw new ConfigError([
      `rtsp.udp.portMax (${rc.udp.portMax}) must be above rtsp.udp.portMin (${rc.udp.portMin})`,
    ]);
  }
}

/** Cross-field rules the schema cannot say: a forced cut never comes before the target. */
export function checkHlsConfig(h: HlsConfig): void {
  if (h.maxSegmentMs !== 0 && h.maxSegmentMs < h.targetMs) {
    throw new ConfigError([
      `hls.maxSegmentMs (${h.maxSegmentMs}) must be 0 (3 x targetMs) or at least hls.targetMs (${h.targetMs})`,
    ]);
  }
}
