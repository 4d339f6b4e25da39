import type { Logger } from 'pino';
import { ControlError } from '../../../libs/cluster/event-schemas.ts';
import type { ControlReply, ControlRequest, ControlTarget, EventBus } from '../../../libs/cluster/types.ts';
import type { Counters } from '../../../libs/metrics/counters.ts';

/** A node answers control requests from its event loop; one that takes longer is treated as unreachable. */
export const CONTROL_TIMEOUT_MS = 5000;

export type Forwarded =
  | { ok: true; reply: ControlReply }
  /** no_nats: the scheduler has no bus; unreachable: no responder, a timeout, NATS down. */
  | { ok: false; why: 'no_nats' | 'unreachable'; message: string };

/**
 * Sends the API's control operations to one node by NATS request/reply (NATS authenticates
 * who may publish on control subjects). Failures are counted, logged without the request body
 * (a relay pull URL may carry credentials).
 */
export class ControlForwarder {
  private readonly bus: Pick<EventBus, 'requestControl'> | null;
  private readonly counters: Counters;
  private readonly log: Logger;
  private readonly timeoutMs: number;

  constructor(o: {
    bus: Pick<EventBus, 'requestControl'> | null;
    counters: Counters;
    log: Logger;
    timeoutMs?: number;
  }) {
    this.bus = o.bus;
    this.counters = o.counters;
    this.log = o.log;
    this.timeoutMs = o.timeoutMs ?? CONTROL_TIMEOUT_MS;
  }

  async send(to: ControlTarget, req: ControlRequest): Promise<Forwarded> {
    const target = typeof to === 'string' ? to : `instance ${to.instanceId}`;
    if (!this.bus) {
      this.counters.inc('scheduler_control_requests', 1, { op: req.op, outcome: 'unreachable' });
      return { ok: false, why: 'no_nats', message: 'control needs NATS (cluster.natsUrl is empty)' };
    }
    try {
      const reply = await this.bus.requestControl(to, req, this.timeoutMs);
      this.counters.inc('scheduler_control_requests', 1, {
        op: req.op,
        outcome: reply.ok ? 'ok' : 'refused',
      });
      return { ok: true, reply };
    } catch (e) {
      this.counters.inc('scheduler_control_requests', 1, { op: req.op, outcome: 'unreachable' });
      const code = e instanceof ControlError ? e.code : 'error';
      this.log.warn({ op: req.op, target, code }, 'control request not answered');
      return { ok: false, why: 'unreachable', message: `node ${target} did not answer (${code})` };
    }
  }
}
