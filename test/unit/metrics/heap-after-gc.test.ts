import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HeapAfterGc } from '../../../libs/metrics/heap-after-gc.ts';

// A full GC on demand, without starting node with --expose-gc.
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

test('HeapAfterGc: 0 before a full GC, then the live heap right after one', async () => {
  const h = new HeapAfterGc();
  try {
    const before = h.gauges();
    assert.equal(before.process_heap_after_gc_bytes, 0);
    // Garbage that a full GC frees: the gauge must not count it.
    let junk: unknown[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `x${i}` }));
    const withJunk = process.memoryUsage().heapUsed;
    junk = null;
    fullGc();
    // Observer callbacks are delivered asynchronously.
    for (let i = 0; i < 50 && h.gauges().process_major_gcs === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    const after = h.gauges();
    assert.ok(after.process_major_gcs >= 1, 'a full GC was seen');
    assert.ok(after.process_heap_after_gc_bytes > 1e6, `live heap ${after.process_heap_after_gc_bytes}`);
    assert.ok(after.process_heap_after_gc_bytes < withJunk, 'the garbage is not counted');
    assert.equal(junk, null);
  } finally {
    h.stop();
  }
});
