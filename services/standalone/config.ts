import { loadConfig } from '../../libs/config/load.ts';
import { mediaNodeEnv, mediaRoleSchema, type LogConfig } from '../node/config-schema.ts';
import type { MediaNodeConfig } from '../node/media-node.ts';

export const standaloneSchema = mediaRoleSchema(
  'standalone',
  'Sluice standalone node',
  'One process, no Redis or NATS: accepts RTMP publishes and serves RTMP, HTTP-FLV and WebSocket-FLV viewers.',
);

/** Standalone is a media node with its own log settings; origin and edge will extend the same shape. */
export interface StandaloneConfig extends MediaNodeConfig {
  log: LogConfig;
}

export function loadStandaloneConfig(file?: string, env?: NodeJS.ProcessEnv): StandaloneConfig {
  return loadConfig<StandaloneConfig>({
    schema: standaloneSchema,
    file,
    env: env ?? process.env,
    overrides: mediaNodeEnv,
  });
}
