/**
 * This process's memory and age as gauges: what a soak or a dashboard needs to see growth and
 * restarts (uptime going back to zero) without reading /proc.
 */
export function processGauges(): {
  process_resident_memory_bytes: number;
  process_heap_used_bytes: number;
  process_heap_total_bytes: number;
  process_uptime_seconds: number;
} {
  const m = process.memoryUsage();
  return {
    process_resident_memory_bytes: m.rss,
    process_heap_used_bytes: m.heapUsed,
    process_heap_total_bytes: m.heapTotal,
    process_uptime_seconds: Math.round(process.uptime() * 10) / 10,
  };
}
