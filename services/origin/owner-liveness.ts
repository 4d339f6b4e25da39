import { ControlError, ControlErrorCode } from '../../libs/cluster/event-schemas.ts';
import { REDIS_RECONNECT_CAP_MS } from '../../libs/cluster/redis-reconnect.ts';
import type { EventBus, StreamOwner, StreamRegistry } from '../../libs/cluster/types.ts';

/** How long a live owner has to answer a ping. */
const PING_TIMEOUT_MS = 750;
/** A live process reconnects to Redis within its reconnect cap; look again after that. */
const RECHECK_AFTER_MS = REDIS_RECONNECT_CAP_MS + 250;

export type Liveness = { dead: true; evidence: string } | { dead: false; why: string };

/**
 * Is the process holding a claim provably dead (DESIGN "Fencing", issue #6 "Fast, safe
 * failover")? Independent witnesses must agree:
 *  1. Redis: no connection named with its instance id is open (CLIENT LIST), twice, the
 *     second time after longer than a live process needs to reconnect (a Redis restart or a
 *     Sentinel failover drops every client for a moment). A killed process's sockets are
 *     closed by its kernel at once; a hung, paused or cut-off one keeps them.
 *  2. NATS: it does not answer a ping on its instance subject: "no responders" (the NATS
 *     server holds no connection of it) or no answer in time. A timeout alone would prove
 *     nothing (a hung process times out too, and a wildcard subscriber such as a monitoring
 *     tap turns "no responders" into a timeout); it counts only together with (1).
 * Anything else (an answer, NATS not connected here, Redis unreachable, CLIENT LIST refused)
 * is not proof, and the caller waits for the lease to expire as before.
 */
export async function checkOwnerDead(
  owner: StreamOwner,
  bus: Pick<EventBus, 'requestControl' | 'connected'>,
  registry: Pick<StreamRegistry, 'instanceConnected'>,
): Promise<Liveness> {
  if (!owner.instanceId) return { dead: false, why: 'claim names no instance' };
  if (!bus.connected) return { dead: false, why: 'NATS not connected here' };
  const firstAt = performance.now();
  // Redis first: for a hung owner this answers at once, without waiting out a ping.
  const redis = await registryWitness(owner.instanceId, registry);
  if (redis) return { dead: false, why: redis };
  let nats: string;
  try {
    await bus.requestControl({ instanceId: owner.instanceId }, { op: 'ping' }, PING_TIMEOUT_MS);
    return { dead: false, why: 'owner answered a ping' };
  } catch (e) {
    if (!(e instanceof ControlError)) return { dead: false, why: `ping: ${(e as Error).message}` };
    if (e.code === ControlErrorCode.NoResponders) nats = 'no NATS responder';
    else if (e.code === ControlErrorCode.Timeout) nats = `no answer to a ping in ${PING_TIMEOUT_MS} ms`;
    else return { dead: false, why: `ping: ${e.message}` };
  }
  const wait = RECHECK_AFTER_MS - (performance.now() - firstAt);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const again = await registryWitness(owner.instanceId, registry);
  if (again) return { dead: false, why: `${again} (on the second look)` };
  return { dead: true, evidence: `no registry connection for over ${RECHECK_AFTER_MS} ms and ${nats}` };
}

/** Why Redis does not prove the instance gone, or null when it has no connection. */
async function registryWitness(
  instanceId: string,
  registry: Pick<StreamRegistry, 'instanceConnected'>,
): Promise<string | null> {
  const connected = await registry.instanceConnected(instanceId).catch(() => null);
  if (connected === null) return 'registry cannot list its connections';
  return connected ? 'owner still connected to the registry' : null;
}
