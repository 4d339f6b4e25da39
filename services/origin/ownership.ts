import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { maybeExecuted } from '../../libs/cluster/registry-errors.ts';
import {
  Subject,
  type ClaimResult,
  type EventBus,
  type Holder,
  type StreamMediaInfo,
  type StreamOwner,
  type StreamRegistry,
} from '../../libs/cluster/types.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { StatusCode } from '../../libs/rtmp/commands.ts';
import type { PublishDecision, PublishRequest } from '../node/hooks.ts';
import { emit } from '../node/emit.ts';
import { KeyChain } from './key-chain.ts';
import { Orphans } from './orphans.ts';
import { checkOwnerDead } from './owner-liveness.ts';

interface Claim {
  key: string;
  sessionId: string;
  /** 0 while not (yet) recorded in the registry (accepted with the registry down, by policy). */
  epoch: number;
  kick: (reason: string) => void;
  media: StreamMediaInfo;
  /** Monotonic ms when the last claim or refresh that succeeded was sent: the lease runs from there. */
  confirmedAt: number;
}

export interface OwnershipPolicy {
  leaseMs: number;
  refreshMs: number;
  /**
   * Through a registry outage streams keep flowing this long after the last confirmation,
   * then the origin fences itself. Infinity: never (standalone, whose registry is in memory).
   */
  outageGraceMs: number;
  /** Accept new publishes while the registry is unreachable (claimed when it is back). */
  acceptWhileRegistryDown: boolean;
  /** Take a key over before its lease ends when its owner is proven dead. */
  fastTakeover: boolean;
}

export interface OwnershipOptions extends OwnershipPolicy {
  holder: Holder;
  registry: StreamRegistry;
  bus: EventBus;
  log: Logger;
  counters: Counters;
  /** Ends the relay pulls this node serves for a key (fencing). */
  endRelays: (key: string, reason: string) => void;
  /** Monotonic clock in ms; performance.now by default. */
  now?: () => number;
}

/** Deadlines are checked this often (they matter to the second, not to the millisecond). */
const FENCE_CHECK_MS = 200;
/** An owner seen alive is not checked again for this long (CLIENT LIST costs O(clients)). */
const ALIVE_MEMO_MS = 1000;

/**
 * An origin's stream claims (DESIGN "Ownership", "Fencing"): claim on publish (taking over a
 * dead owner's key at once), refresh while the publisher lives, release when it ends. The
 * registry calls of one key run in order (KeyChain); claims of different keys concurrently.
 *
 * Each claim has a local deadline on this process's monotonic clock, counted from the last
 * confirmation that was sent: relay pulls are served only within the lease, and through a
 * registry outage the stream keeps flowing for `outageGraceMs`, after which the origin fences
 * itself (kicks the publisher, ends relay pulls). A refresh that finds the key with another
 * owner fences at once. New publishes while the registry is unreachable are refused unless
 * `acceptWhileRegistryDown` (those claims are exempt from the deadline: the operator chose
 * availability for them).
 */
export class Ownership {
  private readonly o: OwnershipOptions;
  private readonly now: () => number;
  private readonly claims = new Map<string, Claim>();
  private readonly orphans: Orphans;
  private readonly chain = new KeyChain();
  /** Owner instances recently seen alive, until (monotonic ms). */
  private readonly aliveUntil = new Map<string, number>();
  private readonly refreshTimer: NodeJS.Timeout;
  private readonly fenceTimer: NodeJS.Timeout;
  private refreshing = false;
  private rounds: Promise<void> = Promise.resolve();
  private relayAddr = '';
  private closing = false;

  constructor(o: OwnershipOptions) {
    this.o = o;
    this.now = o.now ?? (() => performance.now());
    this.orphans = new Orphans(o.counters);
    this.refreshTimer = setInterval(() => void this.refreshAll(), o.refreshMs);
    this.refreshTimer.unref();
    this.fenceTimer = setInterval(() => this.checkDeadlines(), Math.min(FENCE_CHECK_MS, o.refreshMs));
    this.fenceTimer.unref();
  }

  get size(): number {
    return this.claims.size;
  }

  /** Keys whose claim may linger in the registry untracked (for tests and stats). */
  get orphanCount(): number {
    return this.orphans.size;
  }

  /** The internal RTMP address edges pull from, stored with every claim from now on. */
  setRelayAddr(addr: string): void {
    this.relayAddr = addr;
  }

  epochOf(key: string): number {
    return this.claims.get(key)?.epoch ?? 0;
  }

  /**
   * A relay pull for `key` at `epoch` may be served: this process holds exactly that claim and
   * its lease has certainly not run out (an edge that resolved another epoch, or any pull once
   * the lease may have passed to someone else, is refused).
   */
  servesRelay(key: string, epoch: number): { ok: true } | { ok: false; why: string } {
    const c = this.claims.get(key);
    if (!c || c.epoch === 0) return { ok: false, why: `${key} is not owned here` };
    if (c.epoch !== epoch)
      return { ok: false, why: `${key} is owned here at epoch ${c.epoch}, not ${epoch}` };
    const age = this.now() - c.confirmedAt;
    if (age > this.o.leaseMs) {
      return { ok: false, why: `ownership of ${key} unconfirmed for ${Math.round(age)} ms` };
    }
    return { ok: true };
  }

  async authorize(req: PublishRequest, kick: (reason: string) => void): Promise<PublishDecision> {
    const { key } = req;
    if (this.closing) {
      return { ok: false, code: StatusCode.PublishRejected, description: 'the origin is shutting down' };
    }
    this.orphans.delete(key);
    const sentAt = this.now();
    let r: ClaimResult;
    try {
      r = await this.chain.run(key, async () => {
        const first = await this.o.registry.claim(key, this.o.holder, this.o.leaseMs, {
          relayAddr: this.relayAddr,
        });
        return !first.ok && first.owner && this.o.fastTakeover ? this.takeOver(key, first.owner) : first;
      });
    } catch (e) {
      // A claim that was sent may still run (a partition delays, it does not drop): clean up then.
      if (maybeExecuted(e)) this.orphans.add(key);
      return this.registryDown(req, kick, e as Error, sentAt);
    }
    if (!r.ok) {
      this.o.counters.inc('claims_refused');
      this.o.log.warn(
        { stream: key, owner: r.owner?.nodeId, ownerInstance: r.owner?.instanceId, epoch: r.owner?.epoch },
        'stream owned by another process',
      );
      return {
        ok: false,
        code: StatusCode.PublishBadName,
        description: `stream ${key} is being published on ${r.owner?.nodeId ?? 'another node'}`,
      };
    }
    if (this.closing) {
      // Shutdown began while the claim was in flight: hand it straight back.
      void this.chain
        .run(key, () => this.o.registry.release(key, this.o.holder, r.epoch))
        .catch(() => undefined);
      return { ok: false, code: StatusCode.PublishRejected, description: 'the origin is shutting down' };
    }
    const claim = this.add(req, kick, r.epoch, sentAt);
    this.o.log.info({ stream: key, epoch: claim.epoch }, 'stream claimed');
    this.announce(claim);
    // Segment names carry the epoch: every edge names this owner's HLS segments alike.
    return { ok: true, timeline: `e${claim.epoch}`, onEnd: () => void this.end(claim, 'unpublished') };
  }

  setMediaInfo(key: string, media: StreamMediaInfo): void {
    const c = this.claims.get(key);
    if (!c) return;
    c.media = media;
    if (c.epoch) this.o.registry.setMediaInfo(key, this.o.holder, c.epoch, media).catch(() => undefined);
  }

  /** After Redis came back (possibly empty): make sure every live stream is claimed. */
  async reclaimAll(): Promise<void> {
    await this.exclusive(() => this.refreshRound());
  }

  /** Releases every claim and refuses new ones (graceful shutdown). */
  async releaseAll(): Promise<void> {
    this.closing = true;
    clearInterval(this.refreshTimer);
    clearInterval(this.fenceTimer);
    await Promise.all([...this.claims.values()].map((c) => this.end(c, 'shutdown')));
  }

  /** The owner is proven dead (no registry connection, no answer on NATS): claim over its epoch. */
  private async takeOver(key: string, owner: StreamOwner): Promise<ClaimResult> {
    const memo = this.aliveUntil.get(owner.instanceId);
    if (memo !== undefined && memo > this.now()) return { ok: false, owner };
    const live = await checkOwnerDead(owner, this.o.bus, this.o.registry);
    if (!live.dead) {
      this.remember(owner.instanceId);
      this.o.log.info(
        { stream: key, owner: owner.nodeId, why: live.why },
        'owner not proven dead; no takeover',
      );
      return { ok: false, owner };
    }
    const r = await this.o.registry.claim(key, this.o.holder, this.o.leaseMs, {
      relayAddr: this.relayAddr,
      takeoverEpoch: owner.epoch,
    });
    if (r.ok) {
      this.o.counters.inc('claims_taken_over');
      this.o.log.warn(
        {
          stream: key,
          from: owner.nodeId,
          fromInstance: owner.instanceId,
          fromEpoch: owner.epoch,
          leaseLeftMs: owner.ttlMs,
          evidence: live.evidence,
        },
        'stream taken over from a dead owner before its lease ended',
      );
    }
    return r;
  }

  private remember(instanceId: string): void {
    const now = this.now();
    if (this.aliveUntil.size > 1000) {
      for (const [id, until] of this.aliveUntil) if (until <= now) this.aliveUntil.delete(id);
    }
    this.aliveUntil.set(instanceId, now + ALIVE_MEMO_MS);
  }

  private registryDown(
    req: PublishRequest,
    kick: (reason: string) => void,
    err: Error,
    sentAt: number,
  ): PublishDecision {
    if (!this.o.acceptWhileRegistryDown) {
      this.o.counters.inc('claims_refused_registry_down');
      this.o.log.warn(
        { stream: req.key, err: err.message },
        'registry unreachable: publish refused (ownership.acceptWhileRegistryDown is off)',
      );
      return {
        ok: false,
        code: StatusCode.PublishRejected,
        description: 'the stream registry is unreachable; try again',
      };
    }
    this.o.counters.inc('claims_deferred');
    this.o.log.warn(
      { stream: req.key, err: err.message },
      'registry unreachable: publish accepted, claim deferred (ownership.acceptWhileRegistryDown)',
    );
    const claim = this.add(req, kick, 0, sentAt);
    return { ok: true, onEnd: () => void this.end(claim, 'unpublished') };
  }

  private add(req: PublishRequest, kick: (reason: string) => void, epoch: number, sentAt: number): Claim {
    const claim: Claim = {
      key: req.key,
      sessionId: req.sessionId,
      epoch,
      kick,
      media: {},
      confirmedAt: sentAt,
    };
    this.claims.set(req.key, claim);
    return claim;
  }

  /** Refresh rounds and re-claims after a reconnect never interleave: each sees the epochs the other set. */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.rounds.then(fn);
    this.rounds = run.catch(() => undefined);
    return run;
  }

  private announce(c: Claim): void {
    emit(this.o.bus, this.o.log, Subject.StreamPublished, {
      v: 1,
      nodeId: this.o.holder.nodeId,
      instanceId: this.o.holder.instanceId,
      ts: Date.now(),
      key: c.key,
      epoch: c.epoch,
      sessionId: c.sessionId,
    });
    if (c.media.videoCodec || c.media.audioCodec) {
      this.o.registry.setMediaInfo(c.key, this.o.holder, c.epoch, c.media).catch(() => undefined);
    }
  }

  private unannounce(c: Claim, reason: string): void {
    if (!c.epoch) return;
    emit(this.o.bus, this.o.log, Subject.StreamUnpublished, {
      v: 1,
      nodeId: this.o.holder.nodeId,
      instanceId: this.o.holder.instanceId,
      ts: Date.now(),
      key: c.key,
      epoch: c.epoch,
      sessionId: c.sessionId,
      reason,
    });
  }

  private async end(c: Claim, reason: string): Promise<void> {
    if (this.claims.get(c.key) !== c) return;
    this.claims.delete(c.key);
    if (!c.epoch) {
      // A deferred claim: its re-claim may have run with the reply lost.
      this.orphans.add(c.key);
      return;
    }
    this.unannounce(c, reason);
    try {
      await this.chain.run(c.key, () => this.o.registry.release(c.key, this.o.holder, c.epoch));
      this.o.log.info({ stream: c.key, epoch: c.epoch }, 'stream released');
    } catch (e) {
      // Still ours in the registry (or the release ran, reply lost): released when it answers again.
      this.orphans.add(c.key);
      this.o.log.warn({ stream: c.key, err: (e as Error).message }, 'release failed; the lease will expire');
    }
  }

  /**
   * This process must stop serving the key: someone else owns it now, or its ownership went
   * unconfirmed past the grace. Kicks the publisher and ends the relay pulls of the key.
   */
  private fence(c: Claim, reason: string, why: string): void {
    if (this.claims.get(c.key) !== c) return;
    this.claims.delete(c.key);
    this.orphans.add(c.key);
    this.o.counters.inc('ownership_fenced', 1, { reason });
    this.o.log.warn(
      { stream: c.key, epoch: c.epoch, reason, why },
      'stream fenced: stopping the publish and relay pulls',
    );
    this.unannounce(c, `fenced: ${why}`.slice(0, 200));
    c.kick(`ownership fenced: ${why}`);
    this.o.endRelays(c.key, `ownership fenced: ${why}`);
  }

  private checkDeadlines(): void {
    const now = this.now();
    for (const c of [...this.claims.values()]) {
      if (!c.epoch) continue; // accepted while the registry was down: the operator chose availability
      const age = now - c.confirmedAt;
      if (age > this.o.outageGraceMs) {
        this.fence(
          c,
          'unconfirmed',
          `ownership unconfirmed for ${Math.round(age)} ms (registry unreachable, or this process was paused)`,
        );
      }
    }
  }

  private async refreshAll(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    await this.exclusive(() => this.refreshRound()).finally(() => (this.refreshing = false));
  }

  /** Every claim at once (one round trip each), then a bounded batch of orphans. */
  private async refreshRound(): Promise<void> {
    await Promise.all([...this.claims.values()].map((c) => this.chain.run(c.key, () => this.refreshOne(c))));
    await this.cleanOrphans();
  }

  private async refreshOne(c: Claim): Promise<void> {
    if (this.claims.get(c.key) !== c) return;
    const sentAt = this.now();
    if (!c.epoch) return this.reclaim(c, sentAt);
    let ok: boolean;
    try {
      ok = await this.o.registry.refresh(c.key, this.o.holder, c.epoch, this.o.leaseMs);
    } catch {
      return; // registry unreachable: the deadline check fences once the grace is over
    }
    if (ok) {
      if (this.claims.get(c.key) === c) c.confirmedAt = sentAt;
      return;
    }
    if (this.claims.get(c.key) !== c) return;
    let owner: StreamOwner | null;
    try {
      owner = await this.o.registry.lookup(c.key);
    } catch {
      return;
    }
    if (this.claims.get(c.key) !== c) return;
    if (owner === null) {
      // Gone (expired while we were cut off, or Redis lost its data) and nobody took it: ours again.
      await this.reclaim(c, sentAt);
    } else if (owner.instanceId === this.o.holder.instanceId) {
      await this.adopt(c, owner, sentAt);
    } else {
      this.fence(c, 'claim_lost', `now owned by ${owner.nodeId} (epoch ${owner.epoch})`);
    }
  }

  /**
   * The registry holds a claim of this very process under another epoch: a claim whose reply
   * was lost and that ran later (higher: adopt it once a refresh confirms it), or an older one a
   * failover brought back (lower: claim again, for an epoch above both).
   */
  private async adopt(c: Claim, owner: StreamOwner, sentAt: number): Promise<void> {
    if (owner.epoch < c.epoch) return this.reclaim(c, sentAt);
    const ok = await this.o.registry
      .refresh(c.key, this.o.holder, owner.epoch, this.o.leaseMs)
      .catch(() => false);
    if (!ok || this.claims.get(c.key) !== c) return;
    c.epoch = owner.epoch;
    c.confirmedAt = sentAt;
    this.o.log.info({ stream: c.key, epoch: c.epoch }, 'stream claim adopted');
    this.announce(c);
  }

  private async reclaim(c: Claim, sentAt: number): Promise<void> {
    let r: ClaimResult;
    try {
      r = await this.o.registry.claim(c.key, this.o.holder, this.o.leaseMs, { relayAddr: this.relayAddr });
    } catch (e) {
      if (maybeExecuted(e)) this.orphans.add(c.key); // cleaned up if the claim ends untracked
      return; // still unreachable: try on the next refresh
    }
    if (this.claims.get(c.key) !== c) {
      if (r.ok) await this.o.registry.release(c.key, this.o.holder, r.epoch).catch(() => undefined);
      return;
    }
    if (r.ok) {
      c.epoch = r.epoch;
      c.confirmedAt = sentAt;
      this.orphans.delete(c.key);
      this.o.log.info({ stream: c.key, epoch: c.epoch }, 'stream claimed again');
      this.announce(c);
    } else {
      this.fence(c, 'claim_lost', `owned by ${r.owner?.nodeId ?? 'another node'} now`);
    }
  }

  /**
   * Deletes claims of this process that nobody here tracks (lost replies, fenced keys), a
   * bounded batch per round, concurrently and each in its key's order.
   */
  private async cleanOrphans(): Promise<void> {
    const batch = this.orphans.batch().filter((key) => {
      if (!this.claims.has(key)) return true;
      this.orphans.delete(key);
      return false;
    });
    await Promise.all(
      batch.map(
        (key) =>
          this.chain
            .run(key, async () => {
              // A publish of the key since: its claim is tracked, and must not be deleted.
              if (this.claims.has(key) || !this.orphans.has(key)) return;
              if (await this.o.registry.releaseAny(key, this.o.holder)) {
                this.o.log.info({ stream: key }, 'released a claim nobody here held');
              }
              this.orphans.delete(key);
            })
            .catch(() => undefined), // registry unreachable: kept for the next round
      ),
    );
  }
}
