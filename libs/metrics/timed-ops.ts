import { performance } from 'node:perf_hooks';
import { Histogram } from 'prom-client';
import type { Counters } from './counters.ts';
import { FAST_OP_BUCKETS_S } from './metrics.ts';

/** How one service's operations are exposed: `sluice_<family>_op_duration_seconds{op}` and `sluice_<family>_op_errors_total{op}`. */
export interface TimedOpsSpec {
  /** `registry`, `bus`: the metric family (the error counter is `<family>_op_errors` in the catalog). */
  family: string;
  /** HELP of the duration histogram. */
  help: string;
  /** Method name -> `op` label; methods not listed pass through untouched. */
  ops: Readonly<Record<string, string>>;
}

/**
 * `target` seen through a proxy that times the listed methods: the duration (until the promise
 * settles, or the return of a synchronous call) goes to a histogram, a rejection or a throw to
 * the error counter; values and errors pass through unchanged. Everything else (getters, other
 * methods) reaches the target as if there were no proxy. Meant for the service boundary
 * (registry, bus): a call costs two clock reads and one observation, nothing per frame.
 */
export function timedOps<T extends object>(target: T, spec: TimedOpsSpec, counters: Counters): T {
  const name = `sluice_${spec.family}_op_duration_seconds`;
  // One histogram per node registry, whoever asks first (origin and edge wiring both may).
  const histogram =
    (counters.registry.getSingleMetric(name) as Histogram<'op'> | undefined) ??
    new Histogram<'op'>({
      name,
      help: spec.help,
      labelNames: ['op'],
      buckets: FAST_OP_BUCKETS_S,
      registers: [counters.registry],
    });
  const errors = `${spec.family}_op_errors`;
  const wrapped = new Map<PropertyKey, unknown>();
  const wrap = (fn: (...args: unknown[]) => unknown, op: string) => {
    const h = histogram.labels({ op });
    return (...args: unknown[]): unknown => {
      const t0 = performance.now();
      const failed = (e: unknown): never => {
        h.observe((performance.now() - t0) / 1000);
        counters.inc(errors, 1, { op });
        throw e;
      };
      let r: unknown;
      try {
        r = fn.apply(target, args);
      } catch (e) {
        return failed(e);
      }
      if (r instanceof Promise) {
        return r.then((v: unknown) => {
          h.observe((performance.now() - t0) / 1000);
          return v;
        }, failed);
      }
      h.observe((performance.now() - t0) / 1000);
      return r;
    };
  };
  return new Proxy(target, {
    get(t, prop) {
      const v: unknown = Reflect.get(t, prop, t);
      const op = typeof prop === 'string' && Object.hasOwn(spec.ops, prop) ? spec.ops[prop] : undefined;
      if (op === undefined || typeof v !== 'function') return v;
      let w = wrapped.get(prop);
      if (!w) wrapped.set(prop, (w = wrap(v as (...args: unknown[]) => unknown, op)));
      return w;
    },
  });
}
