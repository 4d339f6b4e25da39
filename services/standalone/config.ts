import { loadConfig, type EnvOverride } from '../../libs/config/load.ts';
import {
  mediaNodeEnv,
  mediaNodeProperties,
  mediaRoleSchema,
  publishingRtspProperty,
  type LogConfig,
} from '../node/config-schema.ts';
import type { MediaNodeConfig } from '../node/media-node.ts';
import { recordEnv, recordProperty, type RecordConfig } from '../node/record-config.ts';
import { relayProperty, type RelayConfig } from '../node/relay/config.ts';

/** Standalone's API listens on loopback by default (a single box; origins and edges keep :8083). */
const standaloneApiProperty = {
  ...mediaNodeProperties.api,
  properties: {
    ...mediaNodeProperties.api.properties,
    listen: {
      ...mediaNodeProperties.api.properties.listen,
      default: '127.0.0.1:8083',
      description:
        'Health, stats, metrics and the HTTP API, on loopback by default (`:8083` for every interface: control stays loopback-only without api.token). Env SLUICE_API_LISTEN.',
    },
  },
} as const;

export const standaloneSchema = mediaRoleSchema(
  'standalone',
  'Sluice standalone node',
  'One process, no Redis or NATS: accepts RTMP publishes and serves RTMP, HTTP-FLV and WebSocket-FLV viewers.',
  { rtsp: publishingRtspProperty, record: recordProperty, relay: relayProperty, api: standaloneApiProperty },
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
