import type { Logger } from 'pino';
import type { StreamRegistry } from '../../libs/cluster/types.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { ClusterView } from './cluster-view.ts';
import type { PresenceSync } from './presence-sync.ts';

export type ReconcileSource = Pick<
  StreamRegistry,
  'listNodes' | 'listNodeIds' | 'listStreamEpochs' | 'getNode' | 'lookup'
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
  /** While events flow, a run is full when the last full one is this old; the others are light. */
  fullIntervalMs: number;
}

/** Few at once: a thousand presence reads then trickle in instead of arriving as one long burst. */
const DEFAULT_CONCURRENCY = 4;
const BOOTSTRAP_RETRY_MS = 1000;
/** Claims read per round trip (each step yields the event loop to requests). */
const READ_SLICE = 50;
/** A full run pauses this long between slices, spreading its reads over a few hundred ms. */
const FULL_PACE_MS = 2;

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
  /** Monotonic ms of the last full run that succeeded. */
  private lastFullAt = -Infinity;
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
   * claim (bootstrap, after an outage, while no events flow, and every `fullIntervalMs`). Light,
   * while events keep the view current: only the indexes, and the records of what differs
   * (new or lapsed nodes, claims whose epoch is not the view's), so a periodic run costs the
   * scheduler little and never stalls its answers.
   */
  async runOnce(): Promise<void> {
    const full =
      this.fullAsked ||
      !this.bootstrapped ||
      !this.o.view.eventsFlowing ||
      this.o.view.now() - this.lastFullAt >= this.o.fullIntervalMs;
    const { view, counters, log } = this.o;
    const startedAt = view.now();
    try {
      if (full) await this.fullRun();
      else await this.lightRun();
      this.fullAsked = false;
      if (full) this.lastFullAt = startedAt;
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

  /**
   * Every node record, presence record and claim. Claims are read a slice at a time with a
   * pause between slices: ten thousand of them read at once would keep the event loop busy for
   * a quarter of a second, and the routes waiting behind it with it.
   */
  private async fullRun(): Promise<void> {
    const { view, registry, presence } = this.o;
    const stamp = view.nextStamp();
    const startedAt = view.now();
    const [nodes, epochs] = await Promise.all([registry.listNodes(), registry.listStreamEpochs()]);
    const listed = view.applyNodes(nodes, stamp);
    const keys = new Set(epochs.keys());
    for (const [key] of view.ownerEpochs()) keys.add(key);
    await this.readClaims([...keys], stamp, startedAt, FULL_PACE_MS);
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
    await this.readClaims(differ, stamp, startedAt, 0);
  }

  /** Reads each key's claim (the truth) and applies it, READ_SLICE keys per round trip. */
  private async readClaims(keys: string[], stamp: number, readAt: number, paceMs: number): Promise<void> {
    const { view, registry } = this.o;
    for (let i = 0; i < keys.length; i += READ_SLICE) {
      if (i > 0 && paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
      const slice = keys.slice(i, i + READ_SLICE);
      const owners = await Promise.all(slice.map((k) => registry.lookup(k)));
      slice.forEach((k, j) => view.reconcileOwner(k, owners[j] ?? null, stamp, readAt));
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
