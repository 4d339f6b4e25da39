import type { Logger } from 'pino';
import { timedBus, timedRegistry } from '../../libs/cluster/timed.ts';
import type { EventBus, Holder, StreamRegistry } from '../../libs/cluster/types.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { ClusterAgent } from '../node/cluster-agent.ts';
import type { NodeHooks } from '../node/hooks.ts';
import { MediaNode, type MediaNodeConfig, type PublishingExtras } from '../node/media-node.ts';
import { nodeWebhooks } from '../node/webhooks.ts';
import { nodeAddresses, servedProtocols, streamPresence } from '../node/presence.ts';
import type { RelayEpochCheck } from '../node/relay-auth.ts';
import { Ownership, type OwnershipPolicy } from './ownership.ts';

export interface OriginNodeOptions {
  cfg: MediaNodeConfig & PublishingExtras;
  role: 'origin' | 'standalone';
  holder: Holder;
  log: Logger;
  registry: StreamRegistry;
  /** The bus is made once the node's counters exist. */
  makeBus: (counters: Counters) => EventBus;
  ownership: OwnershipPolicy;
  heartbeatMs: number;
  nodeTtlMs: number;
  hosts: { internal: string; public: string };
  /** Registry and bus calls timed (registry/bus op histograms and errors): cluster roles. */
  timeOps?: boolean;
  /** Who may play (origins check relay credentials and epochs); everyone when absent. */
  authorizePlay?: (epochs: RelayEpochCheck) => NodeHooks['authorizePlay'];
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
    recordStarted: (r) => agent?.recordStarted(r),
    recordStopped: (r) => agent?.recordStopped(r),
  };
  if (o.authorizePlay) {
    const gate = o.authorizePlay((key, epoch) =>
      ownership ? ownership.servesRelay(key, epoch) : { ok: false, why: 'starting' },
    );
    if (gate) hooks.authorizePlay = gate;
  }
  const node = new MediaNode(o.cfg, o.log, hooks, o.cfg.relay ? { relay: o.cfg.relay } : {});
  const webhooks = nodeWebhooks(node, o.cfg.webhooks, {
    nodeId: o.holder.nodeId,
    role: o.role,
    log: o.log,
    epochOf: (key) => ownership?.epochOf(key) || undefined,
  });
  const made = o.makeBus(node.counters);
  const bus = o.timeOps ? timedBus(made, node.counters) : made;
  const registry = o.timeOps ? timedRegistry(o.registry, node.counters) : o.registry;
  ownership = new Ownership({
    ...o.ownership,
    holder: o.holder,
    registry,
    bus,
    log: o.log.child({ component: 'ownership' }),
    counters: node.counters,
    endRelays: (key, reason) => node.endRelays(key, reason),
  });
  const listening = await node.start();
  webhooks?.start();
  const addrs = nodeAddresses(listening, o.hosts);
  if (addrs.internal.rtmp) ownership.setRelayAddr(addrs.internal.rtmp);
  agent = new ClusterAgent({
    holder: o.holder,
    role: o.role,
    node,
    registry,
    bus,
    log: o.log.child({ component: 'cluster' }),
    ...addrs,
    protocols: servedProtocols(listening, { hls: o.cfg.hls.enabled }),
    heartbeatMs: o.heartbeatMs,
    nodeTtlMs: o.nodeTtlMs,
    streams: () => streamPresence(node.hub, false),
  });
  agent.start();
  return { node, bus, ownership, agent };
}
