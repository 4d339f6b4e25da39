/**
 * Monotonic named counters, optionally with one label set. Cheap enough to bump on
 * error paths; hot paths batch their increments. Exposed on the API port as
 * Prometheus text and JSON.
 */
export class Counters {
  private readonly values = new Map<string, number>();

  inc(name: string, by = 1, labels?: Record<string, string>): void {
    const key = labels ? `${name}{${formatLabels(labels)}}` : name;
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  get(name: string, labels?: Record<string, string>): number {
    return this.values.get(labels ? `${name}{${formatLabels(labels)}}` : name) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.values.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Prometheus text exposition; every counter gets the `sluice_` prefix and `_total` suffix. */
  toPrometheus(): string {
    const lines: string[] = [];
    const seen = new Set<string>();
    for (const [key, v] of [...this.values.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const brace = key.indexOf('{');
      const name = `sluice_${brace < 0 ? key : key.slice(0, brace)}_total`;
      if (!seen.has(name)) {
        seen.add(name);
        lines.push(`# TYPE ${name} counter`);
      }
      lines.push(`${name}${brace < 0 ? '' : key.slice(brace)} ${v}`);
    }
    return lines.join('\n') + '\n';
  }
}

function formatLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/["\\\n]/g, '_')}"`)
    .join(',');
}
