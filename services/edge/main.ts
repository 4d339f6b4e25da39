import { timedBus, timedRegistry } from '../../libs/cluster/timed.ts';
import { ClusterAgent } from '../node/cluster-agent.ts';
import { advertisedHosts } from '../node/cluster-config.ts';
import { clusterBus, clusterNodeBase, clusterReadiness } from '../node/cluster-node.ts';
import { drainOnShutdown } from '../node/drain.ts';
import type { NodeHooks } from '../node/hooks.ts';
import { MediaNode } from '../node/media-node.ts';
import { nodeWebhooks } from '../node/webhooks.ts';
import { nodeAddresses, servedProtocols, streamPresence } from '../node/presence.ts';
import { loadEdgeConfig } from './config.ts';
import { registerRelayMetrics } from './relay-metrics.ts';
import { RelayManager } from './relay-manager.ts';

/** Edge: serves every viewer protocol; streams come from their owning origins by relay. */
export async function runEdge(configFile: string | undefined): Promise<void> {
  const cfg = loadEdgeConfig(configFile);
  const base = clusterNodeBase(cfg, 'edge');
  const { log, holder } = base;
  let agent: ClusterAgent | null = null;
  let relays: RelayManager | null = null;
  const hooks: NodeHooks = {
    authorizePublish: (req) =>
      Promise.resolve({
        ok: false,
        code: 'NetStream.Publish.Rejected',
        description: `this node is an edge and does not accept publishers; publish ${req.key} to an origin (the scheduler's /api/v1/ingest tells which)`,
      }),
    authorizePlay: (req) => relays?.admit(req.key) ?? { ok: false, status: 503, description: 'starting' },
    sessionStarted: (s) => agent?.sessionStarted(s),
    sessionStopped: (s) => agent?.sessionStopped(s),
  };
  const node = new MediaNode(cfg, log, hooks);
  const webhooks = nodeWebhooks(node, cfg.webhooks, { nodeId: holder.nodeId, role: 'edge', log });
  // Timed at the boundary: every registry and bus call of this node is measured here.
  const registry = timedRegistry(base.registry, node.counters);
  const bus = timedBus(clusterBus(cfg, log, node.counters), node.counters);
  clusterReadiness(node, registry, bus);
  const relayMetrics = registerRelayMetrics(node.metrics, () => relays);
  relays = new RelayManager({
    holder,
    hub: node.hub,
    registry,
    bus,
    secret: cfg.cluster.relaySecret,
    log: log.child({ component: 'relay' }),
    counters: node.counters,
    opts: { ...cfg.relay, noOwnerGiveUpMs: cfg.stream.waitPublisherMs },
    firstMedia: relayMetrics.firstMedia,
    pullEvents: { started: (r) => node.relayPullStarted(r), stopped: (r) => node.relayPullStopped(r) },
  });
  const manager = relays;
  const listening = await node.start();
  webhooks?.start();
  agent = new ClusterAgent({
    holder,
    role: 'edge',
    node,
    registry,
    bus,
    log: log.child({ component: 'cluster' }),
    ...nodeAddresses(listening, advertisedHosts(cfg.cluster)),
    protocols: servedProtocols(listening, { hls: cfg.hls.enabled }),
    heartbeatMs: cfg.cluster.heartbeatMs,
    nodeTtlMs: cfg.cluster.nodeTtlMs,
    streams: () => streamPresence(node.hub, true),
    relays: () => manager.count,
    control: (req) => {
      if (req.op === 'relay.start') {
        return Promise.resolve(
          manager.ensure(req.key) ? { ok: true } : { ok: false, error: 'relay cap reached' },
        );
      }
      if (req.op === 'relay.stop') {
        return Promise.resolve(
          manager.stop(req.key, 'control request')
            ? { ok: true }
            : { ok: false, error: `no relay for ${req.key}` },
        );
      }
      return null;
    },
  });
  agent.start();

  drainOnShutdown(log, { node, agent, bus, registry }, () => manager.stopAll());
}
