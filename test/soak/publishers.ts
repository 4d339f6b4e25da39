import type { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import { TIMING } from '../integration/helpers/cluster.ts';
import { publish, type Child } from '../integration/helpers/media.ts';
import type { SluiceProcess } from '../integration/helpers/sluice.ts';
import type { Rng } from './rng.ts';

/** A publish not seen on its origin within this is a failed attempt. */
const ACCEPT_TIMEOUT_MS = 8000;
/** Pause before trying again after a refused or failed attempt. */
const RETRY_MS = 1000;
/** The previous claim must be gone within the lease (plus polling slack). */
const RELEASE_TIMEOUT_MS = TIMING.leaseMs + 2000;

export interface PublisherErrors {
  /** ffmpeg exited before the origin showed the publish (refused, e.g. BadName). */
  refused: number;
  /** Not accepted within ACCEPT_TIMEOUT_MS. */
  notAccepted: number;
  /** A live publisher's ffmpeg ended on its own (kicked or broken). */
  died: number;
  /** The previous owner's claim was still in Redis after RELEASE_TIMEOUT_MS. */
  claimNotReleased: number;
}

export interface PublisherSummary {
  key: string;
  starts: number;
  restarts: number;
  /** Per origin node id, publishes accepted. */
  byOrigin: Record<string, number>;
  acceptMs: number[];
  /** From the kill to the release of the claim being visible in Redis. */
  releaseMs: number[];
  errors: PublisherErrors;
  examples: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One stream key's encoder: ffmpeg stream-copying a file in real time to an origin, killed after
 * a random 30-60 s (SIGKILL, a crash, or SIGTERM, ffmpeg's own ending), and started again on the
 * other origin. Before republishing elsewhere it waits for the old claim to leave Redis: the
 * README documents that unpublish releases at once and that a publish elsewhere is refused while
 * the lease lives. Ownership moves at every restart; edges must re-pull.
 */
export class PublisherCycle {
  readonly s: PublisherSummary;
  private stopped = false;
  private wake: () => void = () => {};
  private current: Child | null = null;
  private loop: Promise<void> | null = null;

  private readonly key: string;
  private readonly file: string;
  private readonly origins: SluiceProcess[];
  private readonly originIds: string[];
  private readonly registry: RedisRegistry;
  private readonly rng: Rng;
  private readonly life: { minMs: number; maxMs: number };
  private readonly firstOrigin: number;

  constructor(o: {
    key: string;
    file: string;
    origins: SluiceProcess[];
    originIds: string[];
    registry: RedisRegistry;
    rng: Rng;
    life: { minMs: number; maxMs: number };
    /** Index of the origin of the first publish (keys start spread over the origins). */
    firstOrigin: number;
  }) {
    this.key = o.key;
    this.file = o.file;
    this.origins = o.origins;
    this.originIds = o.originIds;
    this.registry = o.registry;
    this.rng = o.rng;
    this.life = o.life;
    this.firstOrigin = o.firstOrigin;
    this.s = {
      key: o.key,
      starts: 0,
      restarts: 0,
      byOrigin: {},
      acceptMs: [],
      releaseMs: [],
      errors: { refused: 0, notAccepted: 0, died: 0, claimNotReleased: 0 },
      examples: [],
    };
  }

  /** Starts the cycle; resolves once the first publish was accepted (or failed). */
  async start(): Promise<boolean> {
    const ok = await this.publishSomewhere(this.firstOrigin);
    this.loop = this.run(this.firstOrigin);
    return ok;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    await this.current?.kill('SIGKILL');
    this.current = null;
  }

  get errorCount(): number {
    const e = this.s.errors;
    return e.refused + e.notAccepted + e.died + e.claimNotReleased;
  }

  private async run(first: number): Promise<void> {
    let gen = first;
    while (!this.stopped) {
      const pub = this.current;
      const lifeMs = this.rng.between(this.life.minMs, this.life.maxMs);
      const died = pub ? pub.exited.then(() => true) : Promise.resolve(false);
      const outcome = await Promise.race([
        died,
        sleep(lifeMs).then(() => false),
        new Promise<false>((r) => (this.wake = () => r(false))),
      ]);
      if (this.stopped) return;
      if (outcome && pub) {
        this.s.errors.died++;
        this.example(`publisher of ${this.key} ended on its own: ${pub.stderr().trim().slice(-300)}`);
      }
      const killedAt = performance.now();
      await pub?.kill(this.rng.chance(0.5) ? 'SIGKILL' : 'SIGTERM');
      this.current = null;
      await this.waitReleased(killedAt);
      gen++;
      this.s.restarts++;
      await this.publishSomewhere(gen);
    }
  }

  /** Publishes to origin `gen % n`, retrying (and counting each failure) until accepted or stopped. */
  private async publishSomewhere(gen: number): Promise<boolean> {
    const i = gen % this.origins.length;
    while (!this.stopped) {
      const r = await this.attempt(this.origins[i]!);
      if (r === null) {
        this.s.starts++;
        this.s.byOrigin[this.originIds[i]!] = (this.s.byOrigin[this.originIds[i]!] ?? 0) + 1;
        return true;
      }
      this.example(`publish of ${this.key} to ${this.originIds[i]}: ${r}`);
      await sleep(RETRY_MS);
    }
    return false;
  }

  /** null when accepted (this.current is the publisher), else why not. */
  private async attempt(origin: SluiceProcess): Promise<string | null> {
    const t0 = performance.now();
    const pub = publish(this.file, `${origin.rtmp}/${this.key}`, { loop: true });
    const end = t0 + ACCEPT_TIMEOUT_MS;
    while (performance.now() < end && !this.stopped) {
      if (pub.proc.exitCode !== null || pub.proc.signalCode !== null) {
        this.s.errors.refused++;
        return `refused (ffmpeg exit ${pub.proc.exitCode}): ${pub.stderr().trim().slice(-300)}`;
      }
      if (await this.publishing(origin)) {
        this.s.acceptMs.push(Math.round(performance.now() - t0));
        this.current = pub;
        return null;
      }
      await sleep(100);
    }
    await pub.kill('SIGKILL');
    if (this.stopped) return 'stopped';
    this.s.errors.notAccepted++;
    return `not live on the origin within ${ACCEPT_TIMEOUT_MS} ms`;
  }

  private async publishing(origin: SluiceProcess): Promise<boolean> {
    try {
      const r = await fetch(`${origin.api}/api/v1/streams`, { signal: AbortSignal.timeout(2000) });
      const j = (await r.json()) as { streams: { key: string; publisher: unknown }[] };
      return j.streams.some((s) => s.key === this.key && s.publisher !== null);
    } catch {
      return false;
    }
  }

  private async waitReleased(killedAt: number): Promise<void> {
    const end = killedAt + RELEASE_TIMEOUT_MS;
    while (!this.stopped) {
      const owner = await this.registry.lookup(this.key).catch(() => undefined);
      if (owner === null) {
        this.s.releaseMs.push(Math.round(performance.now() - killedAt));
        return;
      }
      if (performance.now() > end) {
        this.s.errors.claimNotReleased++;
        this.example(
          `claim of ${this.key} still held by ${owner?.nodeId ?? '?'} ${RELEASE_TIMEOUT_MS} ms after the kill`,
        );
        return;
      }
      await sleep(100);
    }
  }

  private example(s: string): void {
    if (this.s.examples.length < 10) this.s.examples.push(s);
  }
}
