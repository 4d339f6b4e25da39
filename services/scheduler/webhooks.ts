import type { Logger } from 'pino';
import {
  Subject,
  type EventBus,
  type SessionStartedEvent,
  type SessionStoppedEvent,
} from '../../libs/cluster/types.ts';
import type { WebhookPost } from '../../libs/webhook/http-post.ts';
import { WebhookSender } from '../../libs/webhook/sender.ts';
import { webhookUrl, type WebhookEvent, type WebhooksConfig } from '../node/webhook-config.ts';
import { relayPullPayload, sessionEvent, sessionPayload } from '../node/webhook-payloads.ts';

/** The NATS queue group of the schedulers' webhook subscriptions: each event reaches one replica. */
export const WEBHOOK_QUEUE_GROUP = 'sluice-webhooks';

export interface SchedulerWebhooks {
  stop(graceMs?: number): Promise<void>;
}

/**
 * `webhooks.sender: scheduler`: the session and relay events of the whole cluster, from NATS,
 * sent once by whichever scheduler replica the queue group hands each event to (payloads
 * name the node where it happened in server_id / node_id). Null when not configured so.
 */
export function startSchedulerWebhooks(
  bus: Pick<EventBus, 'subscribeQueue'> | null,
  cfg: WebhooksConfig,
  o: {
    log: Logger;
    counters: { inc(name: string, by?: number, labels?: Record<string, string>): void };
    post?: WebhookPost;
  },
): SchedulerWebhooks | null {
  if (!cfg.enabled || cfg.sender !== 'scheduler') return null;
  const log = o.log.child({ component: 'webhooks' });
  if (!bus) {
    log.warn('webhooks.sender is scheduler but cluster.natsUrl is empty: no session events to send');
    return null;
  }
  if (!cfg.secret)
    log.warn('webhooks.secret is empty: webhooks are sent unsigned (set SLUICE_WEBHOOK_SECRET)');
  const sender = new WebhookSender({
    secret: cfg.secret,
    timeoutMs: cfg.timeoutMs,
    retries: cfg.retries,
    retryBaseMs: cfg.retryBaseMs,
    retryMaxMs: cfg.retryMaxMs,
    queueSize: cfg.queueSize,
    concurrency: cfg.concurrency,
    log,
    counters: o.counters,
    ...(o.post ? { post: o.post } : {}),
  });
  const send = (event: WebhookEvent, key: string, payload: object): void => {
    const url = webhookUrl(cfg, event);
    if (url) sender.send(event, url, key, payload);
  };
  const session = (e: SessionStartedEvent | SessionStoppedEvent, phase: 'start' | 'stop'): void => {
    const event = sessionEvent(e.kind, e.protocol, phase);
    send(event, e.key, sessionPayload(event, e.nodeId, e, undefined, e.ts));
  };
  const offs = [
    bus.subscribeQueue(Subject.SessionStarted, WEBHOOK_QUEUE_GROUP, (e) => session(e, 'start')),
    bus.subscribeQueue(Subject.SessionStopped, WEBHOOK_QUEUE_GROUP, (e) => session(e, 'stop')),
    bus.subscribeQueue(Subject.RelayStarted, WEBHOOK_QUEUE_GROUP, (e) => {
      const r = {
        key: e.key,
        sessionId: `relay:${e.fromNodeId}:${e.epoch}`,
        protocol: 'rtmp',
        url: '',
        fromNodeId: e.fromNodeId,
        epoch: e.epoch,
      };
      send('on_relay_pull_start', e.key, relayPullPayload('on_relay_pull_start', e.nodeId, r, e.ts));
    }),
    bus.subscribeQueue(Subject.RelayStopped, WEBHOOK_QUEUE_GROUP, (e) => {
      const r = {
        key: e.key,
        sessionId: `relay:${e.fromNodeId}:${e.epoch}`,
        protocol: 'rtmp',
        url: '',
        fromNodeId: e.fromNodeId,
        epoch: e.epoch,
        reason: e.reason,
      };
      send('on_relay_pull_stop', e.key, relayPullPayload('on_relay_pull_stop', e.nodeId, r, e.ts));
    }),
  ];
  log.info({ queueGroup: WEBHOOK_QUEUE_GROUP }, 'sending session and relay webhooks from cluster events');
  return {
    async stop(graceMs?: number): Promise<void> {
      for (const off of offs) off();
      await sender.close(graceMs);
    },
  };
}
