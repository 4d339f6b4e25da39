import { hostname } from 'node:os';
import { MemoryBus } from '../../libs/cluster/memory-bus.ts';
import { newInstanceId } from '../../libs/cluster/instance-id.ts';
import { MemoryRegistry } from '../../libs/cluster/memory-registry.ts';
import { createRootLogger } from '../../libs/log/logger.ts';
import { drainOnShutdown } from '../node/drain.ts';
import { resolveNodeId } from '../node/config-schema.ts';
import { logStart } from '../node/version.ts';
import { startOriginNode } from '../origin/origin-node.ts';
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
  cfg.nodeId = resolveNodeId(cfg.nodeId);
  const holder = { nodeId: cfg.nodeId, instanceId: newInstanceId() };
  const log = createRootLogger({ level: cfg.log.level, nodeId: cfg.nodeId, format: cfg.log.format });
  logStart(log, 'standalone');
  const registry = new MemoryRegistry();
  const { node, bus, ownership, agent } = await startOriginNode({
    cfg,
    role: 'standalone',
    holder,
    log,
    registry,
    makeBus: (counters) => new MemoryBus({ log: log.child({ component: 'bus' }), counters }),
    ownership: {
      leaseMs: STANDALONE_LEASE_MS,
      refreshMs: STANDALONE_REFRESH_MS,
      // The in-memory registry cannot be unreachable: never fence (a paused process resumes
      // with its publishers, as a single server should).
      outageGraceMs: Number.POSITIVE_INFINITY,
      acceptWhileRegistryDown: false,
      fastTakeover: false,
    },
    heartbeatMs: STANDALONE_HEARTBEAT_MS,
    nodeTtlMs: STANDALONE_HEARTBEAT_MS * 3,
    hosts: { internal: '127.0.0.1', public: hostname() },
  });
  drainOnShutdown(log, { node, agent, bus, registry }, () => ownership.releaseAll());
}
