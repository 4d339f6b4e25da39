import { loadConfig, type EnvOverride } from '../../libs/config/load.ts';
import {
  mediaNodeEnv,
  mediaRoleSchema,
  publishingRtspProperty,
  type LogConfig,
} from '../node/config-schema.ts';
import type { MediaNodeConfig } from '../node/media-node.ts';
import { recordEnv, recordProperty, type RecordConfig } from '../node/record-config.ts';
import { relayProperty, type RelayConfig } from '../node/relay/config.ts';

export const standaloneSchema = mediaRoleSchema(
  'standalone',
  'Sluice standalone node',
  'One process, no Redis or NATS: accepts RTMP publishes and serves RTMP, HTTP-FLV and WebSocket-FLV viewers.',
  { rtsp: publishingRtspProperty, record: recordProperty, relay: relayProperty },
);

/** Standalone is a media node with its own log settings; origin and edge will extend the same shape. */
export interface StandaloneConfig extends MediaNodeConfig {
  log: LogConfig;
}

/** Standalone and origins record; edges do not (their config has no `record`). */
export interface PublishingNodeConfig extends StandaloneConfig {
  record: RecordConfig;
  /** Relay pulls and pushes (an edge's `relay` section is its relay tuning instead). */
  relay: RelayConfig;
}

export const standaloneEnv: readonly EnvOverride[] = [...mediaNodeEnv, ...recordEnv];

export function loadStandaloneConfig(file?: string, env?: NodeJS.ProcessEnv): PublishingNodeConfig {
  return loadConfig<PublishingNodeConfig>({
    schema: standaloneSchema,
    file,
    env: env ?? process.env,
    overrides: standaloneEnv,
  });
}
