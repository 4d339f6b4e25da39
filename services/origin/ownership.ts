import type { Logger } from 'pino';
import {
  Subject,
  type EventBus,
  type StreamMediaInfo,
  type StreamRegistry,
} from '../../libs/cluster/types.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { StatusCode } from '../../libs/rtmp/commands.ts';
import type { PublishDecision, PublishRequest } from '../node/hooks.ts';
import { emit } from '../node/emit.ts';

interface Claim {
  key: string;
  sessionId: string;
  /** 0 while not (yet) recorded in the registry (Redis was down at publish time). */
  epoch: number;
  kick: (reason: string) => void;
  media: StreamMediaInfo;
}

export interface OwnershipOptions {
  nodeId: string;
  registry: StreamRegistry;
  bus: EventBus;
  log: Logger;
  counters: Counters;
  leaseMs: number;
  refreshMs: number;
}

/**
 * An origin's stream claims (DESIGN "Ownership"): claim on publish, refresh while the publisher
 * lives, release when it ends. A refresh that finds the claim gone to another owner stops the
 * publish. With Redis unreachable the node keeps serving what it has and claims again when
 * Redis is back (a publish that arrives meanwhile is accepted and claimed then).
 */
export class Ownership {
  private readonly o: OwnershipOptions;
  private readonly claims = new Map<string, Claim>();
  private readonly timer: NodeJS.Timeout;
  private refreshing = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(o: OwnershipOptions) {
    this.o = o;
    this.timer = setInterval(() => void this.refreshAll(), o.refreshMs);
    this.timer.unref();
  }

  get size(): number {
    return this.claims.size;
  }

  epochOf(key: string): number {
    return this.claims.get(key)?.epoch ?? 0;
  }

  async authorize(req: PublishRequest, kick: (reason: string) => void): Promise<PublishDecision> {
    const claim: Claim = { key: req.key, sessionId: req.sessionId, epoch: 0, kick, media: {} };
    try {
      const r = await this.o.registry.claim(req.key, this.o.nodeId, this.o.leaseMs);
      if (!r.ok) {
        this.o.counters.inc('claims_refused');
        this.o.log.warn(
          { stream: req.key, owner: r.owner?.nodeId, epoch: r.owner?.epoch },
          'stream owned by another node',
        );
        return {
          ok: false,
          code: StatusCode.PublishBadName,
          description: `stream ${req.key} is being published on ${r.owner?.nodeId ?? 'another node'}`,
        };
      }
      claim.epoch = r.epoch;
    } catch (e) {
      this.o.counters.inc('claims_deferred');
      this.o.log.warn(
        { stream: req.key, err: (e as Error).message },
        'registry unreachable: publish accepted, claim deferred',
      );
    }
    this.claims.set(req.key, claim);
    this.o.log.info({ stream: req.key, epoch: claim.epoch }, 'stream claimed');
    if (claim.epoch) this.announce(claim);
    return { ok: true, onEnd: () => void this.end(claim) };
  }

  setMediaInfo(key: string, media: StreamMediaInfo): void {
    const c = this.claims.get(key);
    if (!c) return;
    c.media = media;
    if (c.epoch) this.o.registry.setMediaInfo(key, this.o.nodeId, c.epoch, media).catch(() => undefined);
  }

  /** After Redis came back (possibly empty): claim every live stream again. */
  async reclaimAll(): Promise<void> {
    await this.exclusive(async () => {
      for (const c of [...this.claims.values()]) {
        // A refresh round may already have re-claimed it: then it needs no new epoch.
        const held = c.epoch
          ? await this.o.registry.refresh(c.key, this.o.nodeId, c.epoch, this.o.leaseMs).catch(() => false)
          : false;
        if (!held && this.claims.get(c.key) === c) await this.reclaim(c);
      }
    });
  }

  /** Refresh rounds and re-claims never interleave: each sees the epochs the other set. */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Releases every claim (graceful shutdown). */
  async releaseAll(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.claims.values()].map((c) => this.end(c)));
  }

  private announce(c: Claim): void {
    emit(this.o.bus, this.o.log, Subject.StreamPublished, {
      v: 1,
      nodeId: this.o.nodeId,
      ts: Date.now(),
      key: c.key,
      epoch: c.epoch,
      sessionId: c.sessionId,
    });
    if (c.media.videoCodec || c.media.audioCodec) {
      this.o.registry.setMediaInfo(c.key, this.o.nodeId, c.epoch, c.media).catch(() => undefined);
    }
  }

  private async end(c: Claim): Promise<void> {
    if (this.claims.get(c.key) !== c) return;
    this.claims.delete(c.key);
    if (!c.epoch) return;
    emit(this.o.bus, this.o.log, Subject.StreamUnpublished, {
      v: 1,
      nodeId: this.o.nodeId,
      ts: Date.now(),
      key: c.key,
      epoch: c.epoch,
      sessionId: c.sessionId,
      reason: 'unpublished',
    });
    try {
      await this.o.registry.release(c.key, this.o.nodeId, c.epoch);
      this.o.log.info({ stream: c.key, epoch: c.epoch }, 'stream released');
    } catch (e) {
      this.o.log.warn({ stream: c.key, err: (e as Error).message }, 'release failed; the lease will expire');
    }
  }

  private async reclaim(c: Claim): Promise<void> {
    let r;
    try {
      r = await this.o.registry.claim(c.key, this.o.nodeId, this.o.leaseMs);
    } catch {
      return; // still unreachable: try on the next refresh
    }
    if (this.claims.get(c.key) !== c) {
      if (r.ok) await this.o.registry.release(c.key, this.o.nodeId, r.epoch).catch(() => undefined);
      return;
    }
    if (r.ok) {
      c.epoch = r.epoch;
      this.o.log.info({ stream: c.key, epoch: c.epoch }, 'stream claimed again');
      this.announce(c);
    } else {
      this.lost(c, `owned by ${r.owner?.nodeId ?? 'another node'} now`);
    }
  }

  private lost(c: Claim, why: string): void {
    this.claims.delete(c.key);
    this.o.counters.inc('claims_lost');
    this.o.log.warn({ stream: c.key, epoch: c.epoch, why }, 'stream claim lost, stopping the publish');
    c.kick(`claim lost: ${why}`);
  }

  private async refreshAll(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    await this.exclusive(() => this.refreshRound()).finally(() => (this.refreshing = false));
  }

  private async refreshRound(): Promise<void> {
    for (const c of [...this.claims.values()]) {
      if (!c.epoch) {
        await this.reclaim(c);
        continue;
      }
      let ok: boolean;
      try {
        ok = await this.o.registry.refresh(c.key, this.o.nodeId, c.epoch, this.o.leaseMs);
      } catch {
        continue; // registry down: keep serving, retry next round
      }
      if (!ok && this.claims.get(c.key) === c) {
        // Gone entirely (e.g. Redis lost its data) is ours to take again; someone else's is not.
        const owner = await this.o.registry.lookup(c.key).catch(() => undefined);
        if (owner === null) await this.reclaim(c);
        // Our own node id is our own claim (a re-claim raced this refresh): adopt its epoch
        // rather than stop our publisher. Node ids are unique, so nobody else holds it.
        else if (owner !== undefined && owner.nodeId === this.o.nodeId) c.epoch = owner.epoch;
        else if (owner !== undefined) this.lost(c, `now owned by ${owner.nodeId} (epoch ${owner.epoch})`);
      }
    }
  }
}
