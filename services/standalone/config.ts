import { createRequire } from 'node:module';
import { loadConfig, type EnvOverride } from '../../libs/config/load.ts';
import type { MediaNodeConfig } from '../node/media-node.ts';

const require = createRequire(import.meta.url);
export const standaloneSchema = require('./config.schema.json') as object;

/** Standalone is a media node with its own log settings; origin and edge will extend the same shape. */
export interface StandaloneConfig extends MediaNodeConfig {
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
}

export const standaloneEnv: readonly EnvOverride[] = [
  { env: 'SLUICE_NODE_ID', path: ['nodeId'], kind: 'string' },
  { env: 'SLUICE_RTMP_LISTEN', path: ['rtmp', 'listen'], kind: 'listen' },
  { env: 'SLUICE_HTTP_LISTEN', path: ['http', 'listen'], kind: 'listen' },
  { env: 'SLUICE_API_LISTEN', path: ['api', 'listen'], kind: 'listen' },
];

export function loadStandaloneConfig(file?: string, env?: NodeJS.ProcessEnv): StandaloneConfig {
  return loadConfig<StandaloneConfig>({
    schema: standaloneSchema,
    file,
    env: env ?? process.env,
    overrides: standaloneEnv,
  });
}
