import { createRequire } from 'node:module';
import { loadConfig, type EnvOverride } from '../../libs/config/load.ts';

const require = createRequire(import.meta.url);
export const standaloneSchema = require('./config.schema.json') as object;

export interface StandaloneConfig {
  nodeId: string;
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
  rtmp: {
    enabled: boolean;
    listen: string;
    outChunkSize: number;
    maxInChunkSize: number;
    maxMessageBytes: number;
    complexHandshake: boolean;
  };
  http: { enabled: boolean; listen: string; cors: boolean };
  api: { enabled: boolean; listen: string };
  limits: {
    maxConnections: number;
    handshakeTimeoutMs: number;
    idleTimeoutMs: number;
    publishIdleTimeoutMs: number;
  };
  stream: { gopCache: boolean; gopCacheMaxBytes: number; waitPublisherMs: number };
  viewer: { maxBufferedBytes: number; stallTimeoutMs: number; writeCoalesceMs: number };
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
