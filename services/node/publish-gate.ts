import type { Logger } from 'pino';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { AttachOptions } from '../../libs/stream/index.ts';
import type { NodeHooks, PublishRequest } from './hooks.ts';

/** What the gate decided for one publish request. */
export type GateOutcome =
  | { ok: true; onEnd: (() => void) | undefined; owner: AttachOptions }
  | {
      ok: false;
      /** Counter label: in_use, auth_timeout, error, or the role's refusal code. */
      reason: string;
      /** The role's refusal code (RTMP status) or ours. */
      code: string;
      description: string;
    };

export interface PublishGateDeps {
  hooks: NodeHooks;
  counters: Counters;
  /** A publish whose authorization has not answered within this is refused and its key freed. */
  timeoutMs: number;
}

/**
 * Asks the node's role whether a publish may start (draining, the cluster claim), for every
 * protocol a publisher comes in on: a key being authorized for RTMP is busy for RTSP too, so two
 * publishers on two protocols never both win.
 */
export class PublishGate {
  private readonly pending = new Set<string>();
  private readonly deps: PublishGateDeps;

  constructor(deps: PublishGateDeps) {
    this.deps = deps;
  }

  /** A publish of `key` is being authorized. */
  isPending(key: string): boolean {
    return this.pending.has(key);
  }

  /**
   * Resolves once: the role's answer, or a refusal when it does not answer within the timeout
   * (a late "yes" is then given back). `isCurrent` says whether the requester still wants the
   * answer; a "yes" it no longer wants is given back too, and the outcome is then a refusal it
   * ignores.
   */
  authorize(
    req: PublishRequest,
    kick: (reason: string) => void,
    log: Logger,
    isCurrent: () => boolean,
  ): Promise<GateOutcome> {
    const hooks = this.deps.hooks;
    const ask = hooks.authorizePublish
      ? (r: PublishRequest, k: (reason: string) => void) => hooks.authorizePublish!(r, k)
      : null;
    if (!ask) return Promise.resolve({ ok: true, onEnd: undefined, owner: {} });
    this.pending.add(req.key);
    return new Promise<GateOutcome>((resolve) => {
      let settled = false;
      const settle = (o: GateOutcome): void => {
        settled = true;
        this.pending.delete(req.key);
        if (!o.ok) this.deps.counters.inc('publish_refused', 1, { reason: o.reason });
        resolve(o);
      };
      const timer = setTimeout(() => {
        if (settled) return;
        log.warn(
          { stream: req.key, timeoutMs: this.deps.timeoutMs },
          'publish refused: authorization did not answer in time',
        );
        settle({
          ok: false,
          reason: 'auth_timeout',
          code: 'NetStream.Publish.Rejected',
          description: 'authorization timed out, try again',
        });
      }, this.deps.timeoutMs);
      timer.unref();
      ask(req, kick).then(
        (decision) => {
          if (settled) {
            if (decision.ok) decision.onEnd?.();
            return;
          }
          clearTimeout(timer);
          if (!decision.ok) {
            log.warn({ stream: req.key, code: decision.code, why: decision.description }, 'publish refused');
            settle({
              ok: false,
              reason: decision.code,
              code: decision.code,
              description: decision.description,
            });
            return;
          }
          if (!isCurrent()) {
            decision.onEnd?.(); // the publisher left (or moved on) while we were deciding
            settled = true;
            this.pending.delete(req.key);
            resolve({ ok: false, reason: 'gone', code: 'gone', description: 'publisher left' });
            return;
          }
          settle({
            ok: true,
            onEnd: decision.onEnd,
            owner: {
              ...(decision.timeline !== undefined ? { timeline: decision.timeline } : {}),
              ...(decision.firstSegment !== undefined ? { firstSegment: decision.firstSegment } : {}),
            },
          });
        },
        (err: unknown) => {
          if (settled) return;
          clearTimeout(timer);
          log.error({ stream: req.key, err }, 'publish authorization failed');
          settle({
            ok: false,
            reason: 'error',
            code: 'NetStream.Publish.Rejected',
            description: 'internal error, try again',
          });
        },
      );
    });
  }
}
