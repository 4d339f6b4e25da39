import type { Logger } from 'pino';
import type { StreamRegistry } from '../../libs/cluster/types.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { ClusterView } from './cluster-view.ts';
import type { PresenceSync } from './presence-sync.ts';

export type ReconcileSource = Pick<
  StreamRegistry,
  'listNodes' | 'listStreams' | 'listNodeIds' | 'listStreamEpochs' | 'getNode' | 'lookup'
>;

export interface ReconcilerOptions {
  view: ClusterView;
  registry: ReconcileSource;
  presence: PresenceSync;
  intervalMs: number;
  counters: Counters;
  log: Logger;
  /** Presence records read at once. */
  concurrency?: number;
  /** While events flow, every this many runs is a full one; the others are light. Default 6. */
  fullEvery?: number;
}

/** Few at once: a thousand presence reads then trickle in instead of arriving as one long burst. */
const DEFAULT_CONCURRENCY = 4;
const BOOTSTRAP_RETRY_MS = 1000;
const DEFAULT_FULL_EVERY = 6;
/** Claims read per step of a light run (each step yields the event loop to requests). */
const READ_SLICE = 50;

/**
 * Reads the whole cluster from Redis, the truth for ownership: at startup (the view is
 * "bootstrapped" once this first succeeds), every `intervalMs`, and at once after NATS or
 * Redis comes back. It fixes whatever drift events left (a missed event, a forged one that got
 * through, a Redis that lost writes), drops nodes whose record lapsed, and, without NATS,
 * is the only feed. One run at a time; a run asked for during a run happens right after it.
 */
export class Reconciler {
  private readonly o: ReconcilerOptions;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private failing = false;
  /** Light runs since the last full one; a full one is due after `fullEvery`. */
  private lightRuns = 0;
  private fullAsked = true;
  /** Monotonic ms of the last run that succeeded (-Infinity: none yet). */
  lastOkAt = -Infinity;
  /** The last run succeeded. */
  ok = false;
  bootstrapped = false;

  constructor(o: ReconcilerOptions) {
    this.o = o;
  }

  start(): void {
    this.runSoon();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Runs a full read now (or right after the run in progress), then every intervalMs again. */
  runSoon(): void {
    this.fullAsked = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.runOnce().finally(() => {
      this.running = null;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.schedule();
        return;
      }
      // Until the first read succeeds (Redis not up yet), try every second: readiness waits on it.
      const delay = this.bootstrapped ? this.o.intervalMs : Math.min(this.o.intervalMs, BOOTSTRAP_RETRY_MS);
      this.timer = setTimeout(() => this.schedule(), delay);
      this.timer.unref();
    });
  }

  /**
   * One read; never rejects (`ok` says how it went). Full: every node record, presence and
   * claim (bootstrap, after an outage, while no events flow, and every `fullEvery` runs). Light,
   * while events keep the view current: only the indexes, and the records of what differs
   * (new or lapsed nodes, claims whose epoch is not the view's), so a periodic run costs the
   * scheduler little and never stalls its answers.
   */
  async runOnce(): Promise<void> {
    const full =
      this.fullAsked ||
      !this.bootstrapped ||
      !this.o.view.eventsFlowing ||
      this.lightRuns + 1 >= (this.o.fullEvery ?? DEFAULT_FULL_EVERY);
    const { view, counters, log } = this.o;
    const startedAt = view.now();
    try {
      if (full) await this.fullRun();
      else await this.lightRun();
      this.fullAsked = false;
      this.lightRuns = full ? 0 : this.lightRuns + 1;
      this.lastOkAt = view.now();
      this.ok = true;
      counters.inc('scheduler_reconciles', 1, { result: 'ok', kind: full ? 'full' : 'light' });
      if (!this.bootstrapped || this.failing) {
        log.info(
          {
            nodes: view.nodeCount,
            streams: view.streamCount,
            tookMs: Math.round(this.lastOkAt - startedAt),
          },
          this.bootstrapped ? 'view reconciled from Redis again' : 'view bootstrapped from Redis',
        );
      }
      this.bootstrapped = true;
      this.failing = false;
    } catch (err) {
      this.ok = false;
      counters.inc('scheduler_reconciles', 1, { result: 'failed', kind: full ? 'full' : 'light' });
      if (!this.failing) {
        log.warn(
          { err: (err as Error).message },
          'reading the cluster from Redis failed; answering from the view as it is',
        );
      }
      this.failing = true;
    }
  }

  private async fullRun(): Promise<void> {
    const { view, registry, presence } = this.o;
    const stamp = view.nextStamp();
    const startedAt = view.now();
    const [nodes, owners] = await Promise.all([registry.listNodes(), registry.listStreams()]);
    const listed = view.applyNodes(nodes, stamp);
    view.applyOwners(owners, stamp, startedAt);
    await inPool(
      listed.map((e) => e.nodeId),
      this.o.concurrency ?? DEFAULT_CONCURRENCY,
      (id) => presence.load(id),
    );
  }

  private async lightRun(): Promise<void> {
    const { view, registry, presence } = this.o;
    const stamp = view.nextStamp();
    const startedAt = view.now();
    const [ids, epochs] = await Promise.all([registry.listNodeIds(), registry.listStreamEpochs()]);
    const unknown = view.applyNodeIds(ids, stamp);
    await inPool(unknown, this.o.concurrency ?? DEFAULT_CONCURRENCY, async (id) => {
      const info = await registry.getNode(id);
      if (info && view.addListedNode(info, stamp)) await presence.load(id);
    });
    const differ: string[] = [];
    for (const [key, epoch] of epochs) if (view.owner(key)?.epoch !== epoch) differ.push(key);
    for (const [key] of view.ownerEpochs()) if (!epochs.has(key)) differ.push(key);
    for (let i = 0; i < differ.length; i += READ_SLICE) {
      const keys = differ.slice(i, i + READ_SLICE);
      const owners = await Promise.all(keys.map((k) => registry.lookup(k)));
      keys.forEach((k, j) => view.reconcileOwner(k, owners[j] ?? null, stamp, startedAt));
    }
  }
}

/** Runs `fn` over `items` with at most `n` at once; rejects with the first failure after all settled. */
async function inPool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const failures: Error[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        failures.push(e instanceof Error ? e : new Error(String(e)));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (failures[0]) throw failures[0];
}
