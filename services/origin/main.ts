import { advertisedHosts } from '../node/cluster-config.ts';
import { clusterBus, clusterNodeBase, clusterReadiness } from '../node/cluster-node.ts';
import { drainOnShutdown } from '../node/drain.ts';
import { relayPlayGate } from '../node/relay-auth.ts';
import { loadOriginConfig } from './config.ts';
import { startOriginNode } from './origin-node.ts';

/**
 * Origin: a media node whose publishes are claimed in Redis, whose sessions are announced on
 * NATS, and whose relay pulls (edges) must carry the shared secret and the epoch it holds.
 */
export async function runOrigin(configFile: string | undefined): Promise<void> {
  const cfg = loadOriginConfig(configFile);
  const { log, registry, holder } = clusterNodeBase(cfg, 'origin');
  const { node, bus, ownership, agent } = await startOriginNode({
    cfg,
    role: 'origin',
    holder,
    log,
    registry,
    timeOps: true,
    makeBus: (counters) => clusterBus(cfg, log, counters),
    ownership: cfg.ownership,
    heartbeatMs: cfg.cluster.heartbeatMs,
    nodeTtlMs: cfg.cluster.nodeTtlMs,
    hosts: advertisedHosts(cfg.cluster),
    authorizePlay: (epochs) => relayPlayGate(cfg.cluster.relaySecret, epochs),
  });
  clusterReadiness(node, registry, bus);
  // After a Redis restart (data possibly lost) every live stream is claimed again.
  registry.onReconnect(() => ownership.reclaimAll());
  // Hand streams back before closing, so edges move to the next owner at once.
  drainOnShutdown(log, { node, agent, bus, registry }, () => ownership.releaseAll());
}
