import { loadConfig } from '../../libs/config/load.ts';
import { clusterEnv, clusterProperties, type ClusterConfig } from '../node/cluster-config.ts';
import { mediaNodeEnv, mediaRoleSchema } from '../node/config-schema.ts';
import type { StandaloneConfig } from '../standalone/config.ts';

export const originSchema = mediaRoleSchema(
  'origin',
  'Sluice origin node',
  'Accepts publishes, owns their streams in Redis, serves relay pulls from edges (and viewers).',
  {
    ...clusterProperties,
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
      },
    },
  },
);

export interface OriginConfig extends StandaloneConfig {
  cluster: ClusterConfig;
  ownership: { leaseMs: number; refreshMs: number };
}

export function loadOriginConfig(file?: string, env?: NodeJS.ProcessEnv): OriginConfig {
  const cfg = loadConfig<OriginConfig>({
    schema: originSchema,
    file,
    env: env ?? process.env,
    overrides: [...mediaNodeEnv, ...clusterEnv],
  });
  return cfg;
}
