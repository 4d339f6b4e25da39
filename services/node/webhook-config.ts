import type { EnvOverride } from '../../libs/config/load.ts';

/** lal's http_notify events, with lal's names (also the keys of `webhooks.urls`). */
export const WEBHOOK_EVENTS = [
  'on_server_start',
  'on_update',
  'on_pub_start',
  'on_pub_stop',
  'on_sub_start',
  'on_sub_stop',
  'on_relay_pull_start',
  'on_relay_pull_stop',
  'on_rtmp_connect',
  'on_hls_make_ts',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Who sends the session and relay events in a cluster. */
export const WebhookSenderRole = { Node: 'node', Scheduler: 'scheduler' } as const;
export type WebhookSenderRole = (typeof WebhookSenderRole)[keyof typeof WebhookSenderRole];

export interface WebhooksConfig {
  enabled: boolean;
  sender: WebhookSenderRole;
  url: string;
  urls: Partial<Record<WebhookEvent, string>>;
  secret: string;
  timeoutMs: number;
  retries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  queueSize: number;
  concurrency: number;
  updateIntervalS: number;
}

const urlProperty = { type: 'string', pattern: '^(https?://.+)?$', default: '' } as const;

/** The `webhooks` section (media roles and the scheduler share it). */
export const webhooksProperty = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description:
    'Signed HTTP POSTs of lal\'s http_notify events (on_pub_start, on_sub_stop, on_update...). See README "Webhooks".',
  properties: {
    enabled: { type: 'boolean', default: false },
    sender: {
      type: 'string',
      enum: ['node', 'scheduler'],
      default: 'node',
      description:
        'node: every media node sends its own events. scheduler: session and relay events (pub, sub, relay pull) are sent once by the schedulers, from the NATS events (one replica each); nodes still send on_server_start, on_update, on_rtmp_connect and on_hls_make_ts, which only they know. Set the same value on nodes and schedulers.',
    },
    url: {
      ...urlProperty,
      description: 'One URL for every event (the body\'s "event" names it); empty = only the events in urls.',
    },
    urls: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: "Per-event URLs (lal's on_* keys); each overrides url for its event.",
      properties: Object.fromEntries(WEBHOOK_EVENTS.map((e) => [e, urlProperty])),
    },
    secret: {
      type: 'string',
      default: '',
      description:
        'HMAC-SHA256 key for X-Sluice-Signature; empty = unsigned (a warning at start). Env SLUICE_WEBHOOK_SECRET.',
    },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 120_000, default: 5000 },
    retries: {
      type: 'integer',
      minimum: 0,
      maximum: 20,
      default: 3,
      description: 'Attempts after the first, on network errors, timeouts, 5xx and 429 (never on other 4xx).',
    },
    retryBaseMs: {
      type: 'integer',
      minimum: 1,
      maximum: 600_000,
      default: 1000,
      description: 'Retry n waits a random time below min(retryMaxMs, retryBaseMs x 2^n) (full jitter).',
    },
    retryMaxMs: { type: 'integer', minimum: 1, maximum: 3_600_000, default: 30_000 },
    queueSize: {
      type: 'integer',
      minimum: 1,
      maximum: 1_000_000,
      default: 1000,
      description: 'Events held at most; new ones are dropped past it (sluice_webhook_dropped_total).',
    },
    concurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 256,
      default: 4,
      description: 'Requests in flight at most.',
    },
    updateIntervalS: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      default: 5,
      description: "on_update period (lal's update_interval_sec).",
    },
  },
} as const;

export const webhooksEnv: readonly EnvOverride[] = [
  { env: 'SLUICE_WEBHOOK_SECRET', path: ['webhooks', 'secret'], kind: 'string' },
  { env: 'SLUICE_WEBHOOK_URL', path: ['webhooks', 'url'], kind: 'string' },
];

/** The URL `event` goes to ('' = not sent). */
export function webhookUrl(cfg: WebhooksConfig, event: WebhookEvent): string {
  return cfg.urls[event] || cfg.url;
}
