import { hostname } from 'node:os';
import { MemoryBus } from '../../libs/cluster/memory-bus.ts';
import { MemoryRegistry } from '../../libs/cluster/memory-registry.ts';
import { createRootLogger } from '../../libs/log/logger.ts';
import { ClusterAgent } from '../node/cluster-agent.ts';
import type { NodeHooks } from '../node/hooks.ts';
import { MediaNode } from '../node/media-node.ts';
import { nodeAddresses, streamPresence } from '../node/presence.ts';
import { onShutdownSignal } from '../node/shutdown.ts';
import { Ownership } from '../origin/ownership.ts';
import { loadStandaloneConfig } from './config.ts';

/** In one process nothing else can take a claim; the lease only has to outlive the refresh. */
const STANDALONE_LEASE_MS = 10_000;
const STANDALONE_REFRESH_MS = 3_000;
const STANDALONE_HEARTBEAT_MS = 5_000;

/**
 * Standalone: an origin whose cluster parts are in memory (DESIGN "Roles"): the same ownership
 * and session-event code paths, with no Redis or NATS.
 */
export async function runStandalone(configFile: string | undefined): Promise<void> {
  const cfg = loadStandaloneConfig(configFile);
  cfg.nodeId ||= hostname();
  const log = createRootLogger({ level: cfg.log.level, nodeId: cfg.nodeId });
  const registry = new MemoryRegistry();
  let agent: ClusterAgent | null = null;
  let ownership: Ownership | null = null;
  const hooks: NodeHooks = {
    authorizePublish: (req, kick) => ownership!.authorize(req, kick),
    publishMediaInfo: (key, _session, media) => ownership?.setMediaInfo(key, media),
    sessionStarted: (s) => agent?.sessionStarted(s),
    sessionStopped: (s) => agent?.sessionStopped(s),
  };
  const node = new MediaNode(cfg, log, hooks);
  const bus = new MemoryBus({ log: log.child({ component: 'bus' }), counters: node.counters });
  ownership = new Ownership({
    nodeId: cfg.nodeId,
    registry,
    bus,
    log: log.child({ component: 'ownership' }),
    counters: node.counters,
    leaseMs: STANDALONE_LEASE_MS,
    refreshMs: STANDALONE_REFRESH_MS,
  });
  const listening = await node.start();
  agent = new ClusterAgent({
    nodeId: cfg.nodeId,
    role: 'standalone',
    node,
    registry,
    bus,
    log: log.child({ component: 'cluster' }),
    ...nodeAddresses(listening, { internal: '127.0.0.1', public: hostname() }),
    heartbeatMs: STANDALONE_HEARTBEAT_MS,
    nodeTtlMs: STANDALONE_HEARTBEAT_MS * 3,
    streams: () => streamPresence(node.hub, false),
  });
  agent.start();
  onShutdownSignal(log, async () => {
    node.setDraining();
    await ownership.releaseAll();
    await node.stop();
    await agent.stop();
    await bus.close();
    await registry.close();
  });
}
