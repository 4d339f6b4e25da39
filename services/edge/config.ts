import { loadConfig, type EnvOverride } from '../../libs/config/load.ts';
import { clusterEnv, clusterProperties, type ClusterConfig } from '../node/cluster-config.ts';
import { mediaNodeEnv, mediaRoleSchema } from '../node/config-schema.ts';
import type { StandaloneConfig } from '../standalone/config.ts';

export const edgeSchema = mediaRoleSchema(
  'edge',
  'Sluice edge node',
  'Serves viewers; pulls each stream from its owning origin on demand. Refuses publishes.',
  {
    ...clusterProperties,
    relay: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        idleStopMs: {
          type: 'integer',
          minimum: 0,
          default: 10000,
          description: 'A relay stops this long after its last viewer left.',
        },
        reconnectMinMs: {
          type: 'integer',
          minimum: 10,
          default: 250,
          description: 'First wait before pulling again after a relay ended.',
        },
        reconnectMaxMs: {
          type: 'integer',
          minimum: 10,
          default: 5000,
          description: 'Longest wait between pull attempts.',
        },
        pullTimeoutMs: {
          type: 'integer',
          minimum: 100,
          default: 5000,
          description: 'Bound on connecting to an origin and starting the pull.',
        },
        ownerPollMs: {
          type: 'integer',
          minimum: 100,
          default: 1000,
          description:
            'While no origin owns a requested stream, look it up this often (events wake it sooner).',
        },
        receiveTimeoutMs: {
          type: 'integer',
          minimum: 200,
          default: 5000,
          description:
            'A relay that receives no media this long (a hung origin keeps its socket open) is ended and the owner resolved again.',
        },
        maxRelays: {
          type: 'integer',
          minimum: 1,
          default: 1000,
          description: 'Streams relayed at once; a viewer of one more stream is refused (HTTP 503).',
        },
      },
    },
  },
);

export interface EdgeConfig extends StandaloneConfig {
  cluster: ClusterConfig;
  relay: {
    idleStopMs: number;
    reconnectMinMs: number;
    reconnectMaxMs: number;
    pullTimeoutMs: number;
    ownerPollMs: number;
    receiveTimeoutMs: number;
    maxRelays: number;
  };
}

export const edgeEnv: readonly EnvOverride[] = [...mediaNodeEnv, ...clusterEnv];

export function loadEdgeConfig(file?: string, env?: NodeJS.ProcessEnv): EdgeConfig {
  return loadConfig<EdgeConfig>({
    schema: edgeSchema,
    file,
    env: env ?? process.env,
    overrides: edgeEnv,
  });
}
