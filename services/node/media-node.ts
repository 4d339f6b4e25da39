import type { Logger } from 'pino';
import { formatListen, parseListen } from '../../libs/config/listen.ts';
import { Counters } from '../../libs/metrics/counters.ts';
import { EventLoopDelay } from '../../libs/metrics/event-loop-delay.ts';
import { HeapAfterGc } from '../../libs/metrics/heap-after-gc.ts';
import { processGauges } from '../../libs/metrics/process-gauges.ts';
import { StreamHub, type StreamOptions } from '../../libs/stream/index.ts';
import { ApiServer } from './api-server.ts';
import { ConnectionLimiter } from './connection-limiter.ts';
import { HttpMediaServer } from './http-server.ts';
import { RtmpServer } from './rtmp-server.ts';
import type { NodeHooks } from './hooks.ts';
import type { NodeLoad } from '../../libs/cluster/types.ts';

/** The media-serving part every node role shares (standalone, origin, edge). */
export interface MediaNodeConfig {
  nodeId: string;
  rtmp: {
    enabled: boolean;
    listen: string;
    outChunkSize: number;
    maxInChunkSize: number;
    maxMessageBytes: number;
    complexHandshake: boolean;
  };
  http: { enabled: boolean; listen: string; cors: boolean };
  api: { enabled: boolean; listen: string };
  limits: {
    maxConnections: number;
    handshakeTimeoutMs: number;
    idleTimeoutMs: number;
    publishIdleTimeoutMs: number;
  };
  stream: { gopCache: boolean; gopCacheMaxBytes: number; waitPublisherMs: number };
  viewer: { maxBufferedBytes: number; stallTimeoutMs: number; writeCoalesceMs: number };
}

export interface ListeningAddresses {
  rtmp?: string;
  http?: string;
  api?: string;
}

/** How long shutdown lets final statuses reach viewers before closing sockets. */
const SHUTDOWN_FLUSH_MS = 100;

/** Window acknowledgement size we announce (what FMS and most servers use). */
const WINDOW_ACK_SIZE = 2_500_000;

export class MediaNode {
  readonly hub: StreamHub;
  readonly counters = new Counters();
  private readonly log: Logger;
  private readonly cfg: MediaNodeConfig;
  private readonly rtmp: RtmpServer | null;
  private readonly http: HttpMediaServer | null;
  private readonly api: ApiServer | null;
  private ready = false;
  private readonly sessionsByKind = { publisher: 0, player: 0, relay: 0 };
  private readonly loopDelay = new EventLoopDelay();
  private readonly heapAfterGc = new HeapAfterGc();
  private readonly rateBase = { at: Date.now(), bytesIn: 0, bytesOut: 0, cpu: process.cpuUsage() };

  /** `hooks` shape the node for its role; session counts for load reports are kept here. */
  constructor(cfg: MediaNodeConfig, log: Logger, roleHooks: NodeHooks = {}) {
    this.cfg = cfg;
    this.log = log;
    const hooks: NodeHooks = {
      ...roleHooks,
      sessionStarted: (s) => {
        this.sessionsByKind[s.kind]++;
        roleHooks.sessionStarted?.(s);
      },
      sessionStopped: (s) => {
        this.sessionsByKind[s.kind]--;
        roleHooks.sessionStopped?.(s);
      },
    };
    const streamOpts: StreamOptions = {
      gopCache: cfg.stream.gopCache,
      gopCacheMaxBytes: cfg.stream.gopCacheMaxBytes,
      waitPublisherMs: cfg.stream.waitPublisherMs,
      maxBufferedBytes: cfg.viewer.maxBufferedBytes,
      stallTimeoutMs: cfg.viewer.stallTimeoutMs,
      writeCoalesceMs: cfg.viewer.writeCoalesceMs,
    };
    this.hub = new StreamHub(streamOpts, { log: log.child({ component: 'hub' }), counters: this.counters });
    const limiter = new ConnectionLimiter(cfg.limits.maxConnections);
    this.rtmp = cfg.rtmp.enabled
      ? new RtmpServer({
          hub: this.hub,
          log,
          counters: this.counters,
          limiter,
          hooks,
          options: {
            outChunkSize: cfg.rtmp.outChunkSize,
            limits: { maxChunkSize: cfg.rtmp.maxInChunkSize, maxMessageSize: cfg.rtmp.maxMessageBytes },
            complexHandshake: cfg.rtmp.complexHandshake,
            handshakeTimeoutMs: cfg.limits.handshakeTimeoutMs,
            idleTimeoutMs: cfg.limits.idleTimeoutMs,
            publishIdleTimeoutMs: cfg.limits.publishIdleTimeoutMs,
            windowAckSize: WINDOW_ACK_SIZE,
          },
        })
      : null;
    this.http = cfg.http.enabled
      ? new HttpMediaServer({
          hub: this.hub,
          log,
          counters: this.counters,
          limiter,
          cors: cfg.http.cors,
          hooks,
        })
      : null;
    this.api = cfg.api.enabled
      ? new ApiServer({
          hub: this.hub,
          counters: this.counters,
          log,
          nodeId: cfg.nodeId,
          ready: () => this.ready,
          gauges: () => ({ ...this.loopDelay.gauges(), ...processGauges(), ...this.heapAfterGc.gauges() }),
          sessions: () => ({ ...this.sessionsByKind }),
        })
      : null;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Ends an RTMP session by id (control "kick"). HTTP viewers are ended by their stream. */
  kick(sessionId: string, reason: string): boolean {
    return this.rtmp?.kick(sessionId, reason) ?? false;
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

  /** Not ready (health 503) while draining; listeners keep running. */
  setDraining(): void {
    this.ready = false;
  }

  async start(): Promise<ListeningAddresses> {
    const out: ListeningAddresses = {};
    const bind = async (
      name: keyof ListeningAddresses,
      srv: { listen(h: string, p: number): Promise<{ host: string; port: number }> } | null,
      listen: string,
    ): Promise<void> => {
      if (!srv) return;
      const l = parseListen(listen);
      out[name] = formatListen(await srv.listen(l.host, l.port));
    };
    // API first so health checks answer "starting" while media listeners come up.
    await bind('api', this.api, this.cfg.api.listen);
    await bind('rtmp', this.rtmp, this.cfg.rtmp.listen);
    await bind('http', this.http, this.cfg.http.listen);
    this.ready = true;
    this.log.info({ listen: out }, 'sluice node listening');
    return out;
  }

  /** Not ready, stop accepting, end viewers and publishers, close. */
  async stop(): Promise<void> {
    this.ready = false;
    // Viewers first, so each gets a proper ending (503, UnpublishNotify), and a moment to flush it.
    this.hub.close();
    await new Promise((r) => setTimeout(r, SHUTDOWN_FLUSH_MS));
    const closing: Promise<void>[] = [];
    if (this.rtmp) closing.push(this.rtmp.close());
    if (this.http) closing.push(this.http.close());
    this.rtmp?.destroyAll();
    await Promise.all(closing);
    await this.api?.close();
    this.loopDelay.stop();
    this.heapAfterGc.stop();
  }
}
