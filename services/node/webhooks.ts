import type { Logger } from 'pino';
import type { StreamMediaInfo } from '../../libs/cluster/types.ts';
import type { StreamSummary } from '../../libs/stream/hub.ts';
import type { WebhookPost } from '../../libs/webhook/http-post.ts';
import { WebhookSender } from '../../libs/webhook/sender.ts';
import type {
  HlsSegmentInfo,
  NodeObserver,
  RelayPullEnd,
  RelayPullInfo,
  RtmpConnectInfo,
  SessionEnd,
  SessionInfo,
} from './hooks.ts';
import type { MediaNode } from './media-node.ts';
import { sluiceVersion } from './version.ts';
import { webhookUrl, type WebhookEvent, type WebhooksConfig } from './webhook-config.ts';
import {
  hlsMakeTsPayload,
  relayPullPayload,
  rtmpConnectPayload,
  serverStartPayload,
  sessionEvent,
  sessionPayload,
  updatePayload,
  type TrackedSession,
} from './webhook-payloads.ts';

export interface NodeWebhooksDeps {
  cfg: WebhooksConfig;
  nodeId: string;
  role: string;
  version: string;
  log: Logger;
  counters: { inc(name: string, by?: number, labels?: Record<string, string>): void };
  hub: { list(): StreamSummary[] };
  /** The ownership epoch of a stream this node owns (origins). */
  epochOf?: (key: string) => number | undefined;
  post?: WebhookPost;
}

/**
 * A media node's webhooks: watches the node (MediaNode.observe) and queues lal's events on a
 * WebhookSender; never blocks the caller. With `sender: scheduler` the session and relay
 * events are the schedulers' (from NATS) and this sends only what the node alone knows:
 * on_server_start, on_update, on_rtmp_connect, on_hls_make_ts.
 */
export class NodeWebhooks implements NodeObserver {
  private readonly d: NodeWebhooksDeps;
  private readonly sender: WebhookSender;
  /** Session and relay events are this node's to send. */
  private readonly sendsSessions: boolean;
  /** Sessions alive on this node, for on_update and has_in/out_session. */
  private readonly sessions = new Map<string, TrackedSession>();
  private readonly media = new Map<string, StreamMediaInfo>();
  /** Per stream: publishers and other sessions alive here. */
  private readonly sideCounts = new Map<string, { ins: number; outs: number }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(d: NodeWebhooksDeps) {
    this.d = d;
    this.sendsSessions = d.cfg.sender === 'node';
    this.sender = new WebhookSender({
      secret: d.cfg.secret,
      timeoutMs: d.cfg.timeoutMs,
      retries: d.cfg.retries,
      retryBaseMs: d.cfg.retryBaseMs,
      retryMaxMs: d.cfg.retryMaxMs,
      queueSize: d.cfg.queueSize,
      concurrency: d.cfg.concurrency,
      log: d.log,
      counters: d.counters,
      ...(d.post ? { post: d.post } : {}),
    });
  }

  /** on_server_start now, on_update every updateIntervalS. */
  start(): void {
    const { nodeId, version, role } = this.d;
    this.send('on_server_start', nodeId, serverStartPayload(nodeId, version, role, new Date()));
    if (!webhookUrl(this.d.cfg, 'on_update')) return;
    this.timer = setInterval(() => this.update(), this.d.cfg.updateIntervalS * 1000);
    this.timer.unref();
  }

  async stop(graceMs?: number): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sender.close(graceMs);
  }

  sessionStarted(s: SessionInfo): void {
    this.sessions.set(s.sessionId, { ...s, startedAt: Date.now() });
    this.count(s, 1);
    if (!this.sendsSessions) return;
    const event = sessionEvent(s.kind, s.protocol, 'start');
    this.send(event, s.key, sessionPayload(event, this.d.nodeId, this.facts(s), this.sides(s.key)));
  }

  sessionStopped(s: SessionEnd): void {
    if (this.sessions.delete(s.sessionId)) this.count(s, -1);
    if (s.kind === 'publisher') this.media.delete(s.key);
    if (!this.sendsSessions) return;
    const event = sessionEvent(s.kind, s.protocol, 'stop');
    this.send(event, s.key, sessionPayload(event, this.d.nodeId, this.facts(s), this.sides(s.key)));
  }

  publishMediaInfo(key: string, _sessionId: string, media: StreamMediaInfo): void {
    this.media.set(key, media);
  }

  rtmpConnect(c: RtmpConnectInfo): void {
    // Ordered with nothing else: the connection has no stream yet.
    this.send('on_rtmp_connect', `connect:${c.sessionId}`, rtmpConnectPayload(this.d.nodeId, c));
  }

  hlsSegment(seg: HlsSegmentInfo): void {
    this.send('on_hls_make_ts', seg.key, hlsMakeTsPayload(this.d.nodeId, seg, process.cwd()));
  }

  relayPullStarted(r: RelayPullInfo): void {
    if (!this.sendsSessions) return;
    this.send('on_relay_pull_start', r.key, relayPullPayload('on_relay_pull_start', this.d.nodeId, r));
  }

  relayPullStopped(r: RelayPullEnd): void {
    if (!this.sendsSessions) return;
    this.send('on_relay_pull_stop', r.key, relayPullPayload('on_relay_pull_stop', this.d.nodeId, r));
  }

  private update(): void {
    this.send(
      'on_update',
      this.d.nodeId,
      updatePayload(this.d.nodeId, this.d.hub.list(), this.sessions, this.media),
    );
  }

  private facts(s: SessionInfo | SessionEnd): SessionInfo & Partial<SessionEnd> & { epoch?: number } {
    const epoch = this.d.epochOf?.(s.key);
    return epoch ? { ...s, epoch } : s;
  }

  /** lal's has_in_session / has_out_session: the stream has a publisher / viewers now. */
  private sides(key: string): { hasIn: boolean; hasOut: boolean } {
    const c = this.sideCounts.get(key);
    return { hasIn: (c?.ins ?? 0) > 0, hasOut: (c?.outs ?? 0) > 0 };
  }

  private count(s: SessionInfo, by: 1 | -1): void {
    const c = this.sideCounts.get(s.key) ?? { ins: 0, outs: 0 };
    if (s.kind === 'publisher') c.ins += by;
    else c.outs += by;
    if (c.ins <= 0 && c.outs <= 0) this.sideCounts.delete(s.key);
    else this.sideCounts.set(s.key, c);
  }

  private send(event: WebhookEvent, orderKey: string, payload: object): void {
    const url = webhookUrl(this.d.cfg, event);
    if (url) this.sender.send(event, url, orderKey, payload);
  }
}

/**
 * Webhooks for `node` when its config enables them: observing at once (no session missed),
 * on_server_start and the on_update timer once `started()` is called (after listening).
 */
/** How long a stopping node keeps delivering queued webhooks. */
const SHUTDOWN_DELIVERY_MS = 3000;

export function nodeWebhooks(
  node: Pick<MediaNode, 'observe' | 'counters' | 'hub' | 'onStopped'>,
  cfg: WebhooksConfig | undefined,
  o: { nodeId: string; role: string; log: Logger; epochOf?: (key: string) => number | undefined },
): NodeWebhooks | null {
  if (!cfg?.enabled) return null;
  const log = o.log.child({ component: 'webhooks' });
  if (!cfg.secret)
    log.warn('webhooks.secret is empty: webhooks are sent unsigned (set SLUICE_WEBHOOK_SECRET)');
  const hooks = new NodeWebhooks({
    cfg,
    nodeId: o.nodeId,
    role: o.role,
    version: sluiceVersion(),
    log,
    counters: node.counters,
    hub: node.hub,
    ...(o.epochOf ? { epochOf: o.epochOf } : {}),
  });
  node.observe(hooks);
  // At shutdown the stop events of the sessions it ended still go out (bounded).
  node.onStopped(() => hooks.stop(SHUTDOWN_DELIVERY_MS));
  return hooks;
}
