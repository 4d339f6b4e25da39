import { hostname } from 'node:os';
import { checkNatsSettings, NatsSettingsError, type NatsSettings } from '../../libs/cluster/nats-settings.ts';
import { parseRedisUrl, RedisUrlError, type RedisTarget } from '../../libs/cluster/redis-url.ts';
import { ConfigError, type EnvOverride } from '../../libs/config/load.ts';

/** Origins, edges and the scheduler: the registry's Redis (libs/cluster/redis-url.ts has the grammar). */
export const redisUrlProperty = {
  type: 'string',
  pattern: '^rediss?(-sentinel|-cluster)?://[^\\s/?#]+(/[^\\s?#]*)?(\\?[^\\s#]*)?$',
  default: 'redis://127.0.0.1:6379/0',
  description:
    "One server: redis://[[user]:password@]host[:port][/db]. Sentinel: redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/<masterName>[/<db>][?sentinelUsername=...&sentinelPassword=...] (sentinel port 26379 by default; user and password are the data nodes'). Redis Cluster: redis-cluster://[[user]:password@]host[:port][,host[:port]...] (seed nodes). rediss, rediss-sentinel, rediss-cluster: TLS to every server. Percent-encode reserved characters in passwords; IPv6 hosts in brackets ([::1]:6379). Env SLUICE_REDIS_URL.",
} as const;

export const natsUrlDescription =
  'nats://host:port, or tls://host:port to require TLS; several comma-separated; credentials as user:password@ or token@ (percent-encoded). Env SLUICE_NATS_URL.';

/** NATS security files, in the `cluster` section of every role that talks to NATS. */
export const natsSecurityProperties = {
  natsCredsFile: {
    type: 'string',
    default: '',
    description:
      'NATS .creds file (user JWT + nkey seed) for operator/JWT auth; empty = none. Env SLUICE_NATS_CREDS.',
  },
  natsCaFile: {
    type: 'string',
    default: '',
    description:
      'PEM CA bundle that verifies the NATS server instead of the system CAs; implies TLS. Env SLUICE_NATS_CA.',
  },
  natsCertFile: {
    type: 'string',
    default: '',
    description:
      'PEM client certificate for servers that verify clients (mutual TLS); needs natsKeyFile; implies TLS. Env SLUICE_NATS_CERT.',
  },
  natsKeyFile: {
    type: 'string',
    default: '',
    description: 'Unencrypted PEM private key of natsCertFile. Env SLUICE_NATS_KEY.',
  },
} as const;

export interface NatsSecurityConfig {
  natsCredsFile: string;
  natsCaFile: string;
  natsCertFile: string;
  natsKeyFile: string;
}

export const natsSecurityEnv: readonly EnvOverride[] = [
  { env: 'SLUICE_NATS_CREDS', path: ['cluster', 'natsCredsFile'], kind: 'string' },
  { env: 'SLUICE_NATS_CA', path: ['cluster', 'natsCaFile'], kind: 'string' },
  { env: 'SLUICE_NATS_CERT', path: ['cluster', 'natsCertFile'], kind: 'string' },
  { env: 'SLUICE_NATS_KEY', path: ['cluster', 'natsKeyFile'], kind: 'string' },
];

/**
 * The NATS settings of a `cluster` section, checked before anything starts: a bad URL or an
 * unreadable file is a ConfigError naming its key (exit 1), never a silent background failure.
 */
export function natsSettingsOf(cluster: { natsUrl: string } & NatsSecurityConfig): NatsSettings {
  const s: NatsSettings = { natsUrl: cluster.natsUrl };
  if (cluster.natsCredsFile) s.natsCredsFile = cluster.natsCredsFile;
  if (cluster.natsCaFile) s.natsCaFile = cluster.natsCaFile;
  if (cluster.natsCertFile) s.natsCertFile = cluster.natsCertFile;
  if (cluster.natsKeyFile) s.natsKeyFile = cluster.natsKeyFile;
  try {
    checkNatsSettings(s);
  } catch (e) {
    if (e instanceof NatsSettingsError) throw new ConfigError([`cluster.${e.key}: ${e.message}`]);
    throw e;
  }
  return s;
}

/**
 * `cluster.redisUrl` parsed. The schema pattern checks only its shape; ports, hosts, paths
 * and encodings are checked here, at startup, as a config error naming the key.
 */
export function redisTargetOf(cluster: { redisUrl: string }): RedisTarget {
  try {
    return parseRedisUrl(cluster.redisUrl);
  } catch (e) {
    if (e instanceof RedisUrlError) throw new ConfigError([`cluster.redisUrl: ${e.message}`]);
    throw e;
  }
}

/** Schema of the `cluster` section origins and edges share. */
export const clusterProperties = {
  cluster: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      redisUrl: redisUrlProperty,
      natsUrl: {
        type: 'string',
        pattern: '^(nats|tls)://',
        default: 'nats://127.0.0.1:4222',
        description: natsUrlDescription,
      },
      ...natsSecurityProperties,
      advertiseHost: {
        type: 'string',
        default: '',
        description:
          'Host other nodes use to reach this one (relay pulls); empty = host name. Env SLUICE_ADVERTISE_HOST.',
      },
      publicHost: {
        type: 'string',
        default: '',
        description:
          'Host in URLs handed to viewers and publishers; empty = advertiseHost. Env SLUICE_PUBLIC_HOST.',
      },
      relaySecret: {
        type: 'string',
        minLength: 8,
        default: 'sluice-dev-relay-secret',
        description:
          'Shared secret edges present when pulling from origins; set your own. Env SLUICE_RELAY_SECRET.',
      },
      heartbeatMs: {
        type: 'integer',
        minimum: 200,
        default: 2000,
        description: 'Node registration refresh and heartbeat event period.',
      },
      nodeTtlMs: {
        type: 'integer',
        minimum: 600,
        default: 6000,
        description: 'A node record expires this long after its last heartbeat.',
      },
    },
  },
} as const;

export interface ClusterConfig extends NatsSecurityConfig {
  redisUrl: string;
  natsUrl: string;
  advertiseHost: string;
  publicHost: string;
  relaySecret: string;
  heartbeatMs: number;
  nodeTtlMs: number;
}

export const clusterEnv: readonly EnvOverride[] = [
  { env: 'SLUICE_REDIS_URL', path: ['cluster', 'redisUrl'], kind: 'string' },
  { env: 'SLUICE_NATS_URL', path: ['cluster', 'natsUrl'], kind: 'string' },
  ...natsSecurityEnv,
  { env: 'SLUICE_ADVERTISE_HOST', path: ['cluster', 'advertiseHost'], kind: 'string' },
  { env: 'SLUICE_PUBLIC_HOST', path: ['cluster', 'publicHost'], kind: 'string' },
  { env: 'SLUICE_RELAY_SECRET', path: ['cluster', 'relaySecret'], kind: 'string' },
];

/** The connect-object property a relay pull carries its credential in (never logged). */
export const RELAY_CREDENTIAL_PROP = 'sluiceRelay';
/** The connect-object property a relay pull carries the ownership epoch the edge resolved in. */
export const RELAY_EPOCH_PROP = 'sluiceEpoch';

export const DEFAULT_RELAY_SECRET = 'sluice-dev-relay-secret';

export function advertisedHosts(c: ClusterConfig): { internal: string; public: string } {
  const internal = c.advertiseHost || hostname();
  return { internal, public: c.publicHost || internal };
}
