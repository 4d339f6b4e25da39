/**
 * HELP text of the process gauges every role exposes as `sluice_<key>` beside prom-client's
 * defaults: event-loop delay over the last window, memory, and the heap after a full GC.
 */
export const PROCESS_GAUGE_HELP: Readonly<Record<string, string>> = {
  event_loop_delay_p50_seconds:
    'Event-loop delay median over the last 10 s window, seconds beyond the 10 ms sampling interval.',
  event_loop_delay_p99_seconds: 'Event-loop delay 99th percentile over the last 10 s window, seconds.',
  event_loop_delay_max_seconds: 'Event-loop delay maximum over the last 10 s window, seconds.',
  process_heap_after_gc_bytes: 'V8 heap used right after the last full (mark-sweep) GC, bytes.',
  process_major_gcs: 'Full (mark-sweep) GCs since start.',
  process_resident_memory_bytes: 'Resident set size, bytes (sampled at scrape).',
  process_heap_used_bytes: 'V8 heap used, garbage included, bytes.',
  process_heap_total_bytes: 'V8 heap reserved, bytes.',
  process_uptime_seconds: 'Seconds since the process started.',
};
