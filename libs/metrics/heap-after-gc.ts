import { constants, PerformanceObserver, type NodeGCPerformanceDetail } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/**
 * The V8 heap in use right after the last full (mark-compact) GC: the live heap, without the
 * garbage that `heapUsed` also counts between collections. A slowly allocating process can
 * pile up garbage in old space for many minutes before V8 collects it, so a leak check on
 * sampled `heapUsed` mostly measures when the last full GC ran; this gauge moves only with what
 * survives one. Read in the observer's callback, shortly after the GC.
 */
export class HeapAfterGc {
  private readonly observer: PerformanceObserver;
  private bytes = 0;
  private count = 0;

  constructor() {
    this.observer = new PerformanceObserver((list) => {
      // GC entries carry { kind, flags } in `detail` (the typings of Node 20 do not say so).
      const major = list.getEntries().some((e) => {
        const d = (e as unknown as { detail?: NodeGCPerformanceDetail | null }).detail;
        return d?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
      });
      if (!major) return;
      this.bytes = getHeapStatistics().used_heap_size;
      this.count++;
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** 0 until the first full GC. */
  gauges(): { process_heap_after_gc_bytes: number; process_major_gcs: number } {
    return { process_heap_after_gc_bytes: this.bytes, process_major_gcs: this.count };
  }

  stop(): void {
    this.observer.disconnect();
  }
}
