import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { NatsBus } from '../../libs/cluster/nats-bus.ts';
import type { EventBus, StreamRegistry } from '../../libs/cluster/types.ts';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import { createRootLogger } from '../../libs/log/logger.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { ClusterAgent } from './cluster-agent.ts';
import { DEFAULT_RELAY_SECRET, type ClusterConfig } from './cluster-config.ts';
import type { MediaNode } from './media-node.ts';
import { onShutdownSignal } from './shutdown.ts';

interface ClusterNodeConfig {
  nodeId: string;
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
  cluster: ClusterConfig;
}

/** What origins and edges set up first: identity, logger, and the Redis registry. */
export function clusterNodeBase(cfg: ClusterNodeConfig): { log: Logger; registry: RedisRegistry } {
  cfg.nodeId ||= hostname();
  const log = createRootLogger({ level: cfg.log.level, nodeId: cfg.nodeId });
  if (cfg.cluster.relaySecret === DEFAULT_RELAY_SECRET) {
    log.warn('cluster.relaySecret is the default; set SLUICE_RELAY_SECRET on every origin and edge');
  }
  const registry = new RedisRegistry({
    url: cfg.cluster.redisUrl,
    log: log.child({ component: 'registry' }),
  });
  return { log, registry };
}

/** The NATS bus; usable at once (events queue until NATS is reachable). */
export function clusterBus(cfg: ClusterNodeConfig, log: Logger, counters: Counters): NatsBus {
  return new NatsBus({
    url: cfg.cluster.natsUrl,
    name: cfg.nodeId,
    log: log.child({ component: 'bus' }),
    counters,
  });
}

/**
 * SIGTERM drains (DESIGN "Failure is normal"): not ready and marked draining so the scheduler
 * stops routing here, then `handOff` (release claims, stop relays), then close everything.
 */
export function drainOnShutdown(
  log: Logger,
  parts: { node: MediaNode; agent: ClusterAgent; bus: EventBus; registry: StreamRegistry },
  handOff: () => Promise<void> | void,
): void {
  onShutdownSignal(log, async () => {
    parts.node.setDraining();
    await parts.agent.drain();
    await handOff();
    await parts.node.stop();
    await parts.agent.stop();
    await parts.bus.close();
    await parts.registry.close();
  });
}
