import { ConfigError, loadConfig, type EnvOverride } from '../../libs/config/load.ts';
import { clusterEnv, clusterProperties, type ClusterConfig } from '../node/cluster-config.ts';
import { mediaNodeEnv, mediaRoleSchema, publishingRtspProperty } from '../node/config-schema.ts';
import { recordEnv, recordProperty } from '../node/record-config.ts';
import { relayProperty } from '../node/relay/config.ts';
import type { PublishingNodeConfig } from '../standalone/config.ts';
import type { OwnershipPolicy } from './ownership.ts';

export const originSchema = mediaRoleSchema(
  'origin',
  'Sluice origin node',
  'Accepts publishes, owns their streams in Redis, serves relay pulls from edges (and viewers).',
  {
    ...clusterProperties,
    rtsp: publishingRtspProperty,
    record: recordProperty,
    relay: relayProperty,
    ownership: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        leaseMs: {
          type: 'integer',
          minimum: 500,
          default: 10000,
          description: "Ownership lease; a dead origin's claim expires within it.",
        },
        refreshMs: {
          type: 'integer',
          minimum: 100,
          default: 3000,
          description: 'How often live claims are refreshed (well under leaseMs).',
        },
        outageGraceMs: {
          type: 'integer',
          minimum: 500,
          default: 30000,
          description:
            'Through a registry (Redis) outage, streams keep flowing this long after their last confirmed refresh; then the origin fences itself (kicks the publisher, ends relay pulls). Above leaseMs this favours availability: another origin may take the key once the lease has expired.',
        },
        acceptWhileRegistryDown: {
          type: 'boolean',
          default: false,
          description:
            'Accept new publishes while the registry is unreachable (claimed once it is back). Off: they are refused, so two origins can never both accept one key.',
        },
        fastTakeover: {
          type: 'boolean',
          default: true,
          description:
            'Take a key over before its lease ends when its owner is proven dead (no NATS responder and no Redis connection: killed, not hung).',
        },
      },
    },
  },
);

export interface OriginConfig extends PublishingNodeConfig {
  cluster: ClusterConfig;
  ownership: OwnershipPolicy;
}

export const originEnv: readonly EnvOverride[] = [...mediaNodeEnv, ...clusterEnv, ...recordEnv];

export function loadOriginConfig(file?: string, env?: NodeJS.ProcessEnv): OriginConfig {
  const cfg = loadConfig<OriginConfig>({
    schema: originSchema,
    file,
    env: env ?? process.env,
    overrides: originEnv,
  });
  const problems = ownershipProblems(cfg.ownership);
  if (problems.length) throw new ConfigError(problems);
  return cfg;
}

/** The registry's call timeout (RedisRegistry's default): a refresh may take this long to fail. */
const REGISTRY_TIMEOUT_MS = 1500;

/**
 * Timings that contradict each other. A refresh must come well within the lease (two per
 * lease, so one lost refresh is survived), and the grace must outlast a refresh that fails
 * slowly, or every stream would be fenced during normal operation.
 */
export function ownershipProblems(o: OwnershipPolicy): string[] {
  const out: string[] = [];
  if (o.refreshMs * 2 > o.leaseMs) {
    out.push(`ownership.refreshMs (${o.refreshMs}) must be at most half of ownership.leaseMs (${o.leaseMs})`);
  }
  const minGrace = o.refreshMs + 2 * REGISTRY_TIMEOUT_MS;
  if (o.outageGraceMs < minGrace) {
    out.push(
      `ownership.outageGraceMs (${o.outageGraceMs}) must be at least refreshMs + ${2 * REGISTRY_TIMEOUT_MS} (${minGrace})`,
    );
  }
  return out;
}
