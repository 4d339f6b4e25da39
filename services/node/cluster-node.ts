import type { Logger } from 'pino';
import { NatsBus } from '../../libs/cluster/nats-bus.ts';
import { newInstanceId } from '../../libs/cluster/instance-id.ts';
import type { Holder } from '../../libs/cluster/types.ts';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import { createRootLogger } from '../../libs/log/logger.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { DEFAULT_RELAY_SECRET, natsSettingsOf, redisTargetOf, type ClusterConfig } from './cluster-config.ts';
import { logStart } from './version.ts';
import { resolveNodeId, type LogConfig } from './config-schema.ts';
import type { MediaNode } from './media-node.ts';

interface ClusterNodeConfig {
  nodeId: string;
  log: LogConfig;
  cluster: ClusterConfig;
}

/**
 * What origins and edges set up first: identity (the configured node id and a fresh instance
 * id for this process), logger, and the Redis registry, whose connection is named after the
 * instance so other nodes can tell whether this process is still connected. NATS settings are
 * checked here, before anything listens: a bad URL or unreadable file is a ConfigError.
 */
export function clusterNodeBase(
  cfg: ClusterNodeConfig,
  role: 'origin' | 'edge',
): { log: Logger; registry: RedisRegistry; holder: Holder } {
  natsSettingsOf(cfg.cluster);
  redisTargetOf(cfg.cluster); // a bad URL is a config error before anything starts
  cfg.nodeId = resolveNodeId(cfg.nodeId);
  const holder: Holder = { nodeId: cfg.nodeId, instanceId: newInstanceId() };
  const log = createRootLogger({ level: cfg.log.level, nodeId: cfg.nodeId, format: cfg.log.format }).child({
    instance: holder.instanceId,
  });
  logStart(log, role);
  if (cfg.cluster.relaySecret === DEFAULT_RELAY_SECRET) {
    log.warn('cluster.relaySecret is the default; set SLUICE_RELAY_SECRET on every origin and edge');
  }
  const registry = new RedisRegistry({
    url: cfg.cluster.redisUrl,
    log: log.child({ component: 'registry' }),
    clientName: `sluice:${role}:${holder.instanceId}`,
  });
  return { log, registry, holder };
}

/** The NATS bus; usable at once (events queue until NATS is reachable). */
export function clusterBus(cfg: ClusterNodeConfig, log: Logger, counters: Counters): NatsBus {
  const c = cfg.cluster;
  return new NatsBus({
    url: c.natsUrl,
    credsFile: c.natsCredsFile,
    caFile: c.natsCaFile,
    certFile: c.natsCertFile,
    keyFile: c.natsKeyFile,
    name: cfg.nodeId,
    log: log.child({ component: 'bus' }),
    counters,
  });
}

/**
 * Readiness of a cluster role also waits for its links: the registry (Redis) and the bus (NATS).
 * Both are watched for as long as the node runs: losing one makes the node not ready.
 */
export function clusterReadiness(
  node: MediaNode,
  registry: { readonly status: string },
  bus: { readonly connected: boolean },
): void {
  node.addReadinessCheck('registry', () => registry.status === 'ready');
  node.addReadinessCheck('bus', () => bus.connected);
}
