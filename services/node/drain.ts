import type { Logger } from 'pino';
import type { EventBus, StreamRegistry } from '../../libs/cluster/types.ts';
import type { ClusterAgent } from './cluster-agent.ts';
import type { MediaNode } from './media-node.ts';
import { onShutdownSignal } from './shutdown.ts';

// Its own file, without the Redis and NATS clients: standalone drains too, and does not load them.

/** What the process needs after the drain to close everything (beyond drain.timeoutMs). */
const CLOSE_GRACE_MS = 10_000;

/**
 * SIGTERM drains (DESIGN "Failure is normal"): not ready and marked draining at once so the
 * scheduler stops routing here and new sessions are refused; existing viewers and publishers go
 * on until they leave or drain.timeoutMs passes; then `handOff` (release claims, stop relays),
 * then close everything and exit 0.
 */
export function drainOnShutdown(
  log: Logger,
  parts: { node: MediaNode; agent: ClusterAgent; bus: EventBus; registry: StreamRegistry },
  handOff: () => Promise<void> | void,
): void {
  const drainMs = parts.node.drainTimeoutMs;
  onShutdownSignal(
    log,
    async () => {
      parts.node.setDraining();
      await parts.agent.drain();
      log.info({ drainTimeoutMs: drainMs }, 'draining: new sessions refused, waiting for sessions to end');
      const empty = await parts.node.waitSessionsGone(drainMs);
      log.info({ empty }, 'drain over');
      await handOff();
      await parts.node.stop();
      await parts.agent.stop();
      await parts.bus.close();
      await parts.registry.close();
    },
    drainMs + CLOSE_GRACE_MS,
  );
}
