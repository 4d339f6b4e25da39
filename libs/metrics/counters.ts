import { Counter, Registry } from 'prom-client';
import { COUNTERS } from './catalog.ts';

type Labels = Record<string, string>;

interface Series {
  readonly labels: Labels | null;
  value: number;
}

/**
 * Monotonic named counters, optionally with labels, exposed as `sluice_<name>_total` through a
 * prom-client registry (HELP from the catalog, label values escaped by prom-client). Values live
 * in a plain map, so `inc` is one map lookup and an addition; the prom-client counter copies
 * them at scrape time.
 */
export class Counters {
  readonly registry: Registry;
  private readonly byName = new Map<string, Map<string, Series>>();

  /** Without a registry the counters get a private one (unit tests). */
  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
  }

  inc(name: string, by = 1, labels?: Labels): void {
    const series = this.byName.get(name) ?? this.define(name, labels);
    const key = labels ? labelKey(labels) : '';
    const s = series.get(key);
    if (s) s.value += by;
    else series.set(key, { labels: labels ? { ...labels } : null, value: by });
  }

  get(name: string, labels?: Labels): number {
    return this.byName.get(name)?.get(labels ? labelKey(labels) : '')?.value ?? 0;
  }

  /**
   * Plain JSON: an unlabelled counter is a number, a labelled one a list of
   * `{ labels, value }` (sorted by name, then by labels).
   */
  snapshot(): Record<string, number | { labels: Labels; value: number }[]> {
    const out: Record<string, number | { labels: Labels; value: number }[]> = {};
    for (const name of [...this.byName.keys()].sort()) {
      const series = this.byName.get(name)!;
      const plain = series.get('');
      if (series.size === 1 && plain && !plain.labels) {
        out[name] = plain.value;
        continue;
      }
      out[name] = [...series.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([, s]) => ({ labels: s.labels ?? {}, value: s.value }));
    }
    return out;
  }

  private define(name: string, firstLabels: Labels | undefined): Map<string, Series> {
    const series = new Map<string, Series>();
    this.byName.set(name, series);
    const spec = COUNTERS[name];
    const labelNames = spec ? [...spec.labels] : Object.keys(firstLabels ?? {}).sort();
    const known = new Set(labelNames);
    new Counter({
      name: `sluice_${name}_total`,
      help: spec?.help ?? `Sluice counter ${name} (undocumented).`,
      labelNames,
      registers: [this.registry],
      collect(this: Counter) {
        this.reset();
        for (const s of series.values()) {
          if (!s.labels) {
            this.inc(s.value);
            continue;
          }
          // A label outside the declared set would make prom-client throw at every scrape.
          const l: Labels = {};
          for (const [k, v] of Object.entries(s.labels)) if (known.has(k)) l[k] = v;
          this.inc(l, s.value);
        }
      },
    });
    return series;
  }
}

function labelKey(labels: Labels): string {
  let key = '';
  for (const k of Object.keys(labels).sort()) key += `${k}\u0000${labels[k]}\u0001`;
  return key;
}
