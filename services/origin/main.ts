import { hostname } from 'node:os';
import { NatsBus } from '../../libs/cluster/nats-bus.ts';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import { createRootLogger } from '../../libs/log/logger.ts';
import { ClusterAgent } from '../node/cluster-agent.ts';
import { advertisedHosts, DEFAULT_RELAY_SECRET } from '../node/cluster-config.ts';
import type { NodeHooks } from '../node/hooks.ts';
import { MediaNode } from '../node/media-node.ts';
import { nodeAddresses, streamPresence } from '../node/presence.ts';
import { relayPlayGate } from '../node/relay-auth.ts';
import { onShutdownSignal } from '../node/shutdown.ts';
import { loadOriginConfig } from './config.ts';
import { Ownership } from './ownership.ts';

/**
 * Origin: a media node whose publishes are claimed in Redis, whose sessions are announced on
 * NATS, and whose relay pulls (edges) must carry the shared secret.
 */
export async function runOrigin(configFile: string | undefined): Promise<void> {
  const cfg = loadOriginConfig(configFile);
  cfg.nodeId ||= hostname();
  const log = createRootLogger({ level: cfg.log.level, nodeId: cfg.nodeId });
  if (cfg.cluster.relaySecret === DEFAULT_RELAY_SECRET) {
    log.warn('cluster.relaySecret is the default; set SLUICE_RELAY_SECRET on every origin and edge');
  }
  const registry = new RedisRegistry({
    url: cfg.cluster.redisUrl,
    log: log.child({ component: 'registry' }),
  });
  let agent: ClusterAgent | null = null;
  let ownership: Ownership | null = null;
  const hooks: NodeHooks = {
    authorizePublish: (req, kick) => ownership!.authorize(req, kick),
    authorizePlay: relayPlayGate(cfg.cluster.relaySecret),
    publishMediaInfo: (key, _session, media) => ownership?.setMediaInfo(key, media),
    sessionStarted: (s) => agent?.sessionStarted(s),
    sessionStopped: (s) => agent?.sessionStopped(s),
  };
  const node = new MediaNode(cfg, log, hooks);
  const bus = new NatsBus({
    url: cfg.cluster.natsUrl,
    name: cfg.nodeId,
    log: log.child({ component: 'bus' }),
    counters: node.counters,
  });
  ownership = new Ownership({
    nodeId: cfg.nodeId,
    registry,
    bus,
    log: log.child({ component: 'ownership' }),
    counters: node.counters,
    leaseMs: cfg.ownership.leaseMs,
    refreshMs: cfg.ownership.refreshMs,
  });
  registry.onReconnect(() => ownership!.reclaimAll());
  const listening = await node.start();
  agent = new ClusterAgent({
    nodeId: cfg.nodeId,
    role: 'origin',
    node,
    registry,
    bus,
    log: log.child({ component: 'cluster' }),
    ...nodeAddresses(listening, advertisedHosts(cfg.cluster)),
    heartbeatMs: cfg.cluster.heartbeatMs,
    nodeTtlMs: cfg.cluster.nodeTtlMs,
    streams: () => streamPresence(node.hub, false),
  });
  agent.start();

  onShutdownSignal(log, async () => {
    // Not ready, leave the scheduler's routing, hand streams back, then close.
    node.setDraining();
    await agent.drain();
    await ownership.releaseAll();
    await node.stop();
    await agent.stop();
    await bus.close();
    await registry.close();
  });
}
