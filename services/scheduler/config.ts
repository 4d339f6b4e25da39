import { loadConfig, type EnvOverride } from '../../libs/config/load.ts';
import { listenDefinition } from '../node/config-schema.ts';
import {
  natsSecurityEnv,
  natsSecurityProperties,
  redisUrlProperty,
  type NatsSecurityConfig,
} from '../node/cluster-config.ts';

/**
 * The scheduler's configuration: one JSON Schema, validated by ajv at startup with defaults
 * filled in (libs/config/load.ts). The scheduler keeps no state of its own, so all it needs
 * is where the registry is, how fresh a node record must be, and how to weigh edges.
 */
export const schedulerSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'sluice/scheduler.schema.json',
  title: 'Sluice scheduler',
  description:
    'Stateless: answers where a stream is and which edge or origin to use, from the Redis registry at request time.',
  type: 'object',
  additionalProperties: false,
  properties: {
    nodeId: {
      type: 'string',
      default: '',
      description: 'Identity in logs; empty = hostname. Env SLUICE_NODE_ID.',
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info' },
      },
    },
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
            'Optional: events are only counted and logged, answers never depend on them. Empty = no NATS. Same forms as on the nodes (nats:// or tls://, user:password@ or token@, comma-separated). Env SLUICE_NATS_URL.',
        },
        ...natsSecurityProperties,
        heartbeatMs: {
          type: 'integer',
          minimum: 200,
          default: 2000,
          description:
            "The nodes' heartbeat period (their cluster.heartbeatMs); a node not heard from for twice this is unhealthy.",
        },
        cacheMs: {
          type: 'integer',
          minimum: 0,
          maximum: 1000,
          default: 500,
          description:
            'Registry reads are reused for this long (0 = every request reads Redis); bounds how stale an answer can be.',
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
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
  listen: string;
  cluster: { redisUrl: string; natsUrl: string; heartbeatMs: number; cacheMs: number } & NatsSecurityConfig;
  routing: RoutingConfig;
}

export const schedulerEnv: readonly EnvOverride[] = [
  { env: 'SLUICE_NODE_ID', path: ['nodeId'], kind: 'string' },
  { env: 'SLUICE_SCHEDULER_LISTEN', path: ['listen'], kind: 'listen' },
  { env: 'SLUICE_REDIS_URL', path: ['cluster', 'redisUrl'], kind: 'string' },
  { env: 'SLUICE_NATS_URL', path: ['cluster', 'natsUrl'], kind: 'string' },
  ...natsSecurityEnv,
];

export function loadSchedulerConfig(file?: string, env?: NodeJS.ProcessEnv): SchedulerConfig {
  return loadConfig<SchedulerConfig>({
    schema: schedulerSchema,
    file,
    env: env ?? process.env,
    overrides: schedulerEnv,
  });
}
