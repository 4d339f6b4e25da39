import { ControlError, ControlErrorCode } from '../../libs/cluster/event-schemas.ts';
import type { EventBus, StreamOwner, StreamRegistry } from '../../libs/cluster/types.ts';

/** How long a live owner has to answer a ping. */
const PING_TIMEOUT_MS = 750;

export type Liveness = { dead: true; evidence: string } | { dead: false; why: string };

/**
 * Is the process holding a claim provably dead (DESIGN "Fencing", issue #6 "Fast, safe
 * failover")? Two independent witnesses must agree:
 *  1. Redis: no connection named with its instance id is open (CLIENT LIST). A killed
 *     process's sockets are closed by its kernel at once; a hung or paused one keeps them, so
 *     it is never taken for dead here.
 *  2. NATS: it does not answer a ping on its instance subject: "no responders" (the NATS
 *     server holds no connection of it) or no answer in time. A timeout alone would not prove
 *     anything (a hung process times out too, and a wildcard subscriber such as a monitoring
 *     tap makes a dead one time out instead of "no responders"); it only counts together with
 *     (1). This witness keeps a live owner whose Redis connection is merely reconnecting.
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
  // Redis first: for a hung owner this answers at once, without waiting out a ping.
  const connected = await registry.instanceConnected(owner.instanceId).catch(() => null);
  if (connected === null) return { dead: false, why: 'registry cannot list its connections' };
  if (connected) return { dead: false, why: 'owner still connected to the registry' };
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
  return { dead: true, evidence: `no registry connection and ${nats}` };
}
