import type { Logger } from 'pino';
import type { EventBus, StreamRegistry } from '../../libs/cluster/types.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { ClusterAgent } from '../node/cluster-agent.ts';
import type { NodeHooks } from '../node/hooks.ts';
import { MediaNode, type MediaNodeConfig } from '../node/media-node.ts';
import { nodeAddresses, streamPresence } from '../node/presence.ts';
import { Ownership } from './ownership.ts';

export interface OriginNodeOptions {
  cfg: MediaNodeConfig;
  role: 'origin' | 'standalone';
  log: Logger;
  registry: StreamRegistry;
  /** The bus is made once the node's counters exist. */
  makeBus: (counters: Counters) => EventBus;
  leaseMs: number;
  refreshMs: number;
  heartbeatMs: number;
  nodeTtlMs: number;
  hosts: { internal: string; public: string };
  /** Who may play (origins check relay credentials); everyone when absent. */
  authorizePlay?: NodeHooks['authorizePlay'];
}

/**
 * A media node whose publishes are claimed through the registry and whose sessions are
 * announced on the bus: an origin with Redis and NATS, standalone with the in-memory ones.
 */
export async function startOriginNode(
  o: OriginNodeOptions,
): Promise<{ node: MediaNode; bus: EventBus; ownership: Ownership; agent: ClusterAgent }> {
  let agent: ClusterAgent | null = null;
  let ownership: Ownership | null = null;
  const hooks: NodeHooks = {
    authorizePublish: (req, kick) => ownership!.authorize(req, kick),
    publishMediaInfo: (key, _session, media) => ownership?.setMediaInfo(key, media),
    sessionStarted: (s) => agent?.sessionStarted(s),
    sessionStopped: (s) => agent?.sessionStopped(s),
  };
  if (o.authorizePlay) hooks.authorizePlay = o.authorizePlay;
  const node = new MediaNode(o.cfg, o.log, hooks);
  const bus = o.makeBus(node.counters);
  ownership = new Ownership({
    nodeId: o.cfg.nodeId,
    registry: o.registry,
    bus,
    log: o.log.child({ component: 'ownership' }),
    counters: node.counters,
    leaseMs: o.leaseMs,
    refreshMs: o.refreshMs,
  });
  const listening = await node.start();
  agent = new ClusterAgent({
    nodeId: o.cfg.nodeId,
    role: o.role,
    node,
    registry: o.registry,
    bus,
    log: o.log.child({ component: 'cluster' }),
    ...nodeAddresses(listening, o.hosts),
    heartbeatMs: o.heartbeatMs,
    nodeTtlMs: o.nodeTtlMs,
    streams: () => streamPresence(node.hub, false),
  });
  agent.start();
  return { node, bus, ownership, agent };
}
