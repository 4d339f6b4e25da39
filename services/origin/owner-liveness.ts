import { ControlError, ControlErrorCode } from '../../libs/cluster/event-schemas.ts';
import type { EventBus, StreamOwner, StreamRegistry } from '../../libs/cluster/types.ts';

/** How long a live owner has to answer a ping; a hung one does not, and is not dead for that. */
const PING_TIMEOUT_MS = 1000;

export type Liveness = { dead: true; evidence: string } | { dead: false; why: string };

/**
 * Is the process holding a claim provably dead (DESIGN "Fencing", issue #6 "Fast, safe
 * failover")? Two independent witnesses must agree:
 *  1. NATS: its instance control subject has no responders, i.e. the NATS server holds no
 *     connection of that process (a killed process's sockets are closed by its kernel; a hung
 *     or paused one keeps them, so its ping times out instead: not dead);
 *  2. Redis: no connection named with its instance id is open (CLIENT LIST).
 * Anything else (an answer, a timeout, NATS or Redis unreachable, CLIENT LIST refused) is not
 * proof, and the caller waits for the lease to expire as before.
 */
export async function checkOwnerDead(
  owner: StreamOwner,
  bus: Pick<EventBus, 'requestControl' | 'connected'>,
  registry: Pick<StreamRegistry, 'instanceConnected'>,
): Promise<Liveness> {
  if (!owner.instanceId) return { dead: false, why: 'claim names no instance' };
  if (!bus.connected) return { dead: false, why: 'NATS not connected here' };
  try {
    await bus.requestControl({ instanceId: owner.instanceId }, { op: 'ping' }, PING_TIMEOUT_MS);
    return { dead: false, why: 'owner answered a ping' };
  } catch (e) {
    if (!(e instanceof ControlError) || e.code !== ControlErrorCode.NoResponders) {
      return { dead: false, why: `ping: ${(e as Error).message}` };
    }
  }
  const connected = await registry.instanceConnected(owner.instanceId).catch(() => null);
  if (connected === null) return { dead: false, why: 'registry cannot list its connections' };
  if (connected) return { dead: false, why: 'owner still connected to the registry' };
  return { dead: true, evidence: 'no NATS responder and no registry connection' };
}
