import { ClusterAgent } from '../node/cluster-agent.ts';
import { advertisedHosts } from '../node/cluster-config.ts';
import { clusterBus, clusterNodeBase, drainOnShutdown } from '../node/cluster-node.ts';
import type { NodeHooks } from '../node/hooks.ts';
import { MediaNode } from '../node/media-node.ts';
import { nodeAddresses, streamPresence } from '../node/presence.ts';
import { loadEdgeConfig } from './config.ts';
import { RelayManager } from './relay-manager.ts';

/** Edge: serves every viewer protocol; streams come from their owning origins by relay. */
export async function runEdge(configFile: string | undefined): Promise<void> {
  const cfg = loadEdgeConfig(configFile);
  const { log, registry } = clusterNodeBase(cfg);
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
  const bus = clusterBus(cfg, log, node.counters);
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

  drainOnShutdown(log, { node, agent, bus, registry }, () => relays.stopAll());
}
