/** Prometheus text for point-in-time values (`sluice_` prefix, no `_total` suffix). */
export function gaugeText(gauges: Record<string, number>): string {
  let out = '';
  for (const [name, v] of Object.entries(gauges)) out += `# TYPE sluice_${name} gauge\nsluice_${name} ${v}\n`;
  return out;
}
