import { ClusterAgent } from '../node/cluster-agent.ts';
import { advertisedHosts } from '../node/cluster-config.ts';
import { clusterBus, clusterNodeBase, drainOnShutdown } from '../node/cluster-node.ts';
import type { NodeHooks } from '../node/hooks.ts';
import { MediaNode } from '../node/media-node.ts';
import { nodeAddresses, streamPresence } from '../node/presence.ts';
import { relayPlayGate } from '../node/relay-auth.ts';
import { loadOriginConfig } from './config.ts';
import { Ownership } from './ownership.ts';

/**
 * Origin: a media node whose publishes are claimed in Redis, whose sessions are announced on
 * NATS, and whose relay pulls (edges) must carry the shared secret.
 */
export async function runOrigin(configFile: string | undefined): Promise<void> {
  const cfg = loadOriginConfig(configFile);
  const { log, registry } = clusterNodeBase(cfg);
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
  const bus = clusterBus(cfg, log, node.counters);
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

  // Hand streams back before closing, so edges move to the next owner at once.
  drainOnShutdown(log, { node, agent, bus, registry }, () => ownership.releaseAll());
}
