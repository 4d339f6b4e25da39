import { loadConfig, schemaKeyProperty, type EnvOverride } from '../../libs/config/load.ts';
import {
  apiTokenProperty,
  listenDefinition,
  logEnv,
  logProperty,
  type LogConfig,
} from '../node/config-schema.ts';
import {
  natsSecurityEnv,
  natsSecurityProperties,
  redisUrlProperty,
  type NatsSecurityConfig,
} from '../node/cluster-config.ts';
import { webhooksEnv, webhooksProperty, type WebhooksConfig } from '../node/webhook-config.ts';

/**
 * The scheduler's configuration: one JSON Schema, validated by ajv at startup with defaults
 * filled in (libs/config/load.ts). The scheduler keeps only a view of the cluster, rebuilt from
 * Redis and NATS, so all it needs is where they are, how often nodes beat and Redis is re-read,
 * how much it may hold, and how to weigh edges.
 */
export const schedulerSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'scheduler.schema.json',
  title: 'Sluice scheduler',
  description:
    'Answers where a stream is and which edge or origin to use, from an in-memory view of the cluster fed by NATS and reconciled from Redis.',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: schemaKeyProperty,
    nodeId: {
      type: 'string',
      default: '',
      description: 'Identity in logs; empty = hostname. Env SLUICE_NODE_ID.',
    },
    log: logProperty,
    listen: {
      $ref: '#/definitions/listen',
      default: ':8090',
      description: 'HTTP API and /play redirects. Env SLUICE_SCHEDULER_LISTEN.',
    },
    cluster: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        redisUrl: redisUrlProperty,
        natsUrl: {
          type: 'string',
          pattern: '^((nats|tls)://.*)?$',
          default: '',
          description:
            'Cluster events keep the view current (heartbeats, presence, publishes); empty = no NATS: the view is then refreshed from Redis every reconcileMs only. Same forms as on the nodes (nats:// or tls://, user:password@ or token@, comma-separated). Env SLUICE_NATS_URL.',
        },
        ...natsSecurityProperties,
        heartbeatMs: {
          type: 'integer',
          minimum: 200,
          default: 2000,
          description:
            "The nodes' heartbeat period (their cluster.heartbeatMs); a node whose heartbeat has not reached the scheduler for twice this is unhealthy.",
        },
        reconcileMs: {
          type: 'integer',
          minimum: 100,
          maximum: 600_000,
          default: 10_000,
          description:
            'The cluster is re-read from Redis this often. While events flow, cheaply: the indexes, and the records of what differs (new or lapsed nodes, changed claims); without NATS, in full. Fixes drift from missed events, drops lapsed nodes.',
        },
        fullReconcileMs: {
          type: 'integer',
          minimum: 1000,
          maximum: 86_400_000,
          default: 600_000,
          description:
            'While events flow, every node record, presence record and claim is re-read this often (paced over a second or so): corrects what numbered events cannot (a forged presence change, codecs learned late).',
        },
        cacheMs: {
          type: 'integer',
          minimum: 0,
          maximum: 1000,
          default: 500,
          description:
            'An owner looked up in Redis for a key the view does not have (stream, ingest) is reused this long (0 = read every time).',
        },
      },
    },
    webhooks: webhooksProperty,
    api: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        "The cluster-wide HTTP API on the scheduler's port (lal /api/stat and /api/ctrl, /api/v1 sessions and relays). Routing endpoints (route, ingest, play, streams, nodes) stay public.",
      properties: {
        token: apiTokenProperty,
        protectStats: {
          type: 'boolean',
          default: false,
          description: 'With a token set, the lal stats endpoints and /api/v1/sessions need it too.',
        },
      },
    },
    view: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        'Memory bounds of the view; entries over them are left out and counted (scheduler_view_over_limit).',
      properties: {
        maxNodes: { type: 'integer', minimum: 1, default: 10_000 },
        maxStreams: { type: 'integer', minimum: 1, default: 200_000 },
        maxStreamsPerNode: { type: 'integer', minimum: 1, default: 100_000 },
        maxSessions: {
          type: 'integer',
          minimum: 1,
          default: 200_000,
          description: 'Live sessions kept for the HTTP API (lal /api/stat, kicks), whole cluster.',
        },
      },
    },
    routing: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxLoadRatio: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1,
          default: 0.9,
          description: 'An edge whose (players + relays) / maxConnections exceeds this gets no new viewers.',
        },
        preferRelaying: {
          type: 'boolean',
          default: true,
          description: 'Send viewers to an edge that already relays the stream, before hashing.',
        },
      },
    },
  },
  definitions: { listen: listenDefinition },
} as const;

export interface RoutingConfig {
  maxLoadRatio: number;
  preferRelaying: boolean;
}

export interface SchedulerConfig {
  nodeId: string;
  log: LogConfig;
  listen: string;
  cluster: {
    redisUrl: string;
    natsUrl: string;
    heartbeatMs: number;
    reconcileMs: number;
    fullReconcileMs: number;
    cacheMs: number;
  } & NatsSecurityConfig;
  view: { maxNodes: number; maxStreams: number; maxStreamsPerNode: number; maxSessions: number };
  api: { token: string | string[]; protectStats: boolean };
  routing: RoutingConfig;
  webhooks: WebhooksConfig;
}

export const schedulerEnv: readonly EnvOverride[] = [
  { env: 'SLUICE_NODE_ID', path: ['nodeId'], kind: 'string' },
  ...logEnv,
  { env: 'SLUICE_SCHEDULER_LISTEN', path: ['listen'], kind: 'listen' },
  { env: 'SLUICE_REDIS_URL', path: ['cluster', 'redisUrl'], kind: 'string' },
  { env: 'SLUICE_NATS_URL', path: ['cluster', 'natsUrl'], kind: 'string' },
  { env: 'SLUICE_API_TOKEN', path: ['api', 'token'], kind: 'string' },
  ...natsSecurityEnv,
  ...webhooksEnv,
];

export function loadSchedulerConfig(file?: string, env?: NodeJS.ProcessEnv): SchedulerConfig {
  return loadConfig<SchedulerConfig>({
    schema: schedulerSchema,
    file,
    env: env ?? process.env,
    overrides: schedulerEnv,
  });
}
