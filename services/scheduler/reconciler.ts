import type { Logger } from 'pino';
import type { StreamRegistry } from '../../libs/cluster/types.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { ClusterView } from './cluster-view.ts';
import type { PresenceSync } from './presence-sync.ts';

export type ReconcileSource = Pick<StreamRegistry, 'listNodes' | 'listStreams'>;

export interface ReconcilerOptions {
  view: ClusterView;
  registry: ReconcileSource;
  presence: PresenceSync;
  intervalMs: number;
  counters: Counters;
  log: Logger;
  /** Presence records read at once. */
  concurrency?: number;
}

/** Few at once: a thousand presence reads then trickle in instead of arriving as one long burst. */
const DEFAULT_CONCURRENCY = 4;
const BOOTSTRAP_RETRY_MS = 1000;

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

  /** Runs now (or right after the run in progress), then every intervalMs again. */
  runSoon(): void {
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
        this.runSoon();
        return;
      }
      // Until the first read succeeds (Redis not up yet), try every second: readiness waits on it.
      const delay = this.bootstrapped ? this.o.intervalMs : Math.min(this.o.intervalMs, BOOTSTRAP_RETRY_MS);
      this.timer = setTimeout(() => this.runSoon(), delay);
      this.timer.unref();
    });
  }

  /** One full read; never rejects (`ok` says how it went). */
  async runOnce(): Promise<void> {
    const { view, registry, presence, counters, log } = this.o;
    const stamp = view.nextStamp();
    const startedAt = view.now();
    try {
      const [nodes, owners] = await Promise.all([registry.listNodes(), registry.listStreams()]);
      const listed = view.applyNodes(nodes, stamp);
      view.applyOwners(owners, stamp, startedAt);
      await inPool(
        listed.map((e) => e.nodeId),
        this.o.concurrency ?? DEFAULT_CONCURRENCY,
        (id) => presence.load(id),
      );
      this.lastOkAt = view.now();
      this.ok = true;
      counters.inc('scheduler_reconciles', 1, { result: 'ok' });
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
      counters.inc('scheduler_reconciles', 1, { result: 'failed' });
      if (!this.failing) {
        log.warn(
          { err: (err as Error).message },
          'reading the cluster from Redis failed; answering from the view as it is',
        );
      }
      this.failing = true;
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
