import type { Logger } from 'pino';
import { NatsBus } from '../../libs/cluster/nats-bus.ts';
import { newInstanceId } from '../../libs/cluster/instance-id.ts';
import type { EventBus, Holder, StreamRegistry } from '../../libs/cluster/types.ts';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import { createRootLogger } from '../../libs/log/logger.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { ClusterAgent } from './cluster-agent.ts';
import { DEFAULT_RELAY_SECRET, natsSettingsOf, redisTargetOf, type ClusterConfig } from './cluster-config.ts';
import type { MediaNode } from './media-node.ts';
import { onShutdownSignal } from './shutdown.ts';
import { logStart } from './version.ts';
import { resolveNodeId, type LogConfig } from './config-schema.ts';

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

/** What the process needs after the drain to close everything (beyond drain.timeoutMs). */
const CLOSE_GRACE_MS = 10_000;

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

/**
 * SIGTERM drains (DESIGN "Failure is normal"): not ready and marked draining at once so the
 * scheduler stops routing here and new sessions are refused; existing viewers and publishers go
 * on until they leave or drain.timeoutMs passes; then `handOff` (release claims, stop relays),
 * then close everything and exit 0.
 */
export function drainOnShutdown(
  log: Logger,
  parts: { node: MediaNode; agent: ClusterAgent; bus: EventBus; registry: StreamRegistry },
  handOff: () => Promise<void> | void,
): void {
  const drainMs = parts.node.drainTimeoutMs;
  onShutdownSignal(
    log,
    async () => {
      parts.node.setDraining();
      await parts.agent.drain();
      log.info({ drainTimeoutMs: drainMs }, 'draining: new sessions refused, waiting for sessions to end');
      const empty = await parts.node.waitSessionsGone(drainMs);
      log.info({ empty }, 'drain over');
      await handOff();
      await parts.node.stop();
      await parts.agent.stop();
      await parts.bus.close();
      await parts.registry.close();
    },
    drainMs + CLOSE_GRACE_MS,
  );
}
