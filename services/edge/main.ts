import { hostname } from 'node:os';
import { NatsBus } from '../../libs/cluster/nats-bus.ts';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import { createRootLogger } from '../../libs/log/logger.ts';
import { ClusterAgent } from '../node/cluster-agent.ts';
import { advertisedHosts, DEFAULT_RELAY_SECRET } from '../node/cluster-config.ts';
import type { NodeHooks } from '../node/hooks.ts';
import { MediaNode } from '../node/media-node.ts';
import { nodeAddresses, streamPresence } from '../node/presence.ts';
import { onShutdownSignal } from '../node/shutdown.ts';
import { loadEdgeConfig } from './config.ts';
import { RelayManager } from './relay-manager.ts';

/** Edge: serves every viewer protocol; streams come from their owning origins by relay. */
export async function runEdge(configFile: string | undefined): Promise<void> {
  const cfg = loadEdgeConfig(configFile);
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
  const hooks: NodeHooks = {
    authorizePublish: (req) =>
      Promise.resolve({
        ok: false,
        code: 'NetStream.Publish.Rejected',
        description: `this node is an edge and does not accept publishers; publish ${req.key} to an origin (the scheduler's /api/v1/ingest tells which)`,
      }),
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
  const relays = new RelayManager({
    nodeId: cfg.nodeId,
    hub: node.hub,
    registry,
    bus,
    secret: cfg.cluster.relaySecret,
    log: log.child({ component: 'relay' }),
    counters: node.counters,
    opts: cfg.relay,
  });
  const listening = await node.start();
  agent = new ClusterAgent({
    nodeId: cfg.nodeId,
    role: 'edge',
    node,
    registry,
    bus,
    log: log.child({ component: 'cluster' }),
    ...nodeAddresses(listening, advertisedHosts(cfg.cluster)),
    heartbeatMs: cfg.cluster.heartbeatMs,
    nodeTtlMs: cfg.cluster.nodeTtlMs,
    streams: () => streamPresence(node.hub, true),
    relays: () => relays.count,
    control: (req) => {
      if (req.op === 'relay.start') {
        relays.ensure(req.key);
        return Promise.resolve({ ok: true });
      }
      if (req.op === 'relay.stop') {
        return Promise.resolve(
          relays.stop(req.key, 'control request')
            ? { ok: true }
            : { ok: false, error: `no relay for ${req.key}` },
        );
      }
      return null;
    },
  });
  agent.start();

  onShutdownSignal(log, async () => {
    node.setDraining();
    await agent.drain();
    relays.stopAll();
    await node.stop();
    await agent.stop();
    await bus.close();
    await registry.close();
  });
}
