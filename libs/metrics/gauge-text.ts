/** Prometheus text for gauges (`sluice_` prefix, no suffix), to follow the counters on /metrics. */
export function gaugeText(g: Record<string, number>): string {
  let out = '';
  for (const [name, v] of Object.entries(g)) out += `# TYPE sluice_${name} gauge\nsluice_${name} ${v}\n`;
  return out;
}
