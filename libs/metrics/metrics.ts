import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Counters } from './counters.ts';

type Labels = Record<string, string>;

/** Buckets for operations that normally take about a millisecond (Redis, NATS, routing). */
export const FAST_OP_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * One process's (one node's) metrics: a prom-client registry of its own, never the global
 * default one, so several nodes in one test process do not share series. Gauges are computed at
 * scrape time by the callbacks given here; nothing on a hot path updates them.
 */
export class Metrics {
  readonly registry: Registry;
  readonly counters: Counters;

  /**
   * `counters`: adopt existing counters (and their registry); `processMetrics`: prom-client's
   * process and Node.js defaults (heap, GC, event-loop lag, CPU), on by default.
   */
  constructor(o: { counters?: Counters; processMetrics?: boolean } = {}) {
    this.registry = o.counters?.registry ?? new Registry();
    this.counters = o.counters ?? new Counters(this.registry);
    if (o.processMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // GC series appear at the first collection of each kind; a quiet process may have had
      // none yet, and dashboards (sum of nodejs_gc_duration_seconds_sum) would show no data.
      const gc = this.registry.getSingleMetric('nodejs_gc_duration_seconds');
      if (gc instanceof Histogram) for (const kind of ['major', 'minor', 'incremental']) gc.zero({ kind });
    }
  }

  /** A gauge read at scrape time; `read` calls `set` once per series (series not set vanish). */
  gauge(
    name: string,
    help: string,
    read: (set: (value: number, labels?: Labels) => void) => void,
    labelNames: readonly string[] = [],
  ): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect(this: Gauge) {
        this.reset();
        read((value, labels) => (labels ? this.set(labels, value) : this.set(value)));
      },
    });
  }

  /** A counter whose running total lives elsewhere (byte totals the hub keeps); read at scrape time. */
  counterOf(
    name: string,
    help: string,
    read: (set: (value: number, labels?: Labels) => void) => void,
    labelNames: readonly string[] = [],
  ): void {
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect(this: Counter) {
        this.reset();
        read((value, labels) => (labels ? this.inc(labels, value) : this.inc(value)));
      },
    });
  }

  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[] = FAST_OP_BUCKETS_S,
  ): Histogram<L> {
    return new Histogram<L>({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  /**
   * One gauge per key of `read()` (as the first call returns them), named `sluice_<key>`, for
   * components that report a record of values; `help` documents each key.
   */
  gaugeRecord(read: () => Record<string, number>, help: Record<string, string>): void {
    for (const key of Object.keys(read())) {
      this.gauge(`sluice_${key}`, help[key] ?? `Sluice gauge ${key}.`, (set) => {
        const v = read()[key];
        if (v !== undefined) set(v);
      });
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of everything registered. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
