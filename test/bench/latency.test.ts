// The bench's latency histogram and probe. Run: node --import tsx --test test/bench/latency.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LatencyHistogram } from './latency-histogram.ts';
import { LatencyProbe } from './latency-probe.ts';
import { spread } from './report.ts';

/** The bucket width at a value: what a histogram percentile may exceed the exact one by. */
const resolution = (ms: number): number => (ms < 50 ? 0.1 : 1);

test('LatencyHistogram: percentiles within one bucket of the exact nearest rank', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0, max: 1999.99, noNaN: true }), { minLength: 1, maxLength: 400 }),
      (values) => {
        const h = new LatencyHistogram();
        for (const v of values) h.record(v);
        const exact = spread(values)!;
        const got = h.spread()!;
        assert.equal(h.count, values.length);
        assert.equal(got.min, exact.min);
        assert.equal(got.max, exact.max);
        for (const k of ['median', 'p95', 'p99'] as const) {
          // Never below the exact value, at most a bucket above it (1e-9: the bucket edges' floating point).
          assert.ok(got[k] >= exact[k] - 1e-9, `${k} ${got[k]} < ${exact[k]}`);
          assert.ok(got[k] <= exact[k] + resolution(exact[k]) + 1e-9, `${k} ${got[k]} vs ${exact[k]}`);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('LatencyHistogram: table of buckets, overflow, negatives, empty', () => {
  const h = new LatencyHistogram();
  assert.equal(h.spread(), null);
  assert.ok(Number.isNaN(h.percentile(0.5)));
  // 100 values: 0.05 ms x 50, 12.34 ms x 45, 700.2 ms x 4, 5000 ms x 1.
  for (let i = 0; i < 50; i++) h.record(0.05);
  for (let i = 0; i < 45; i++) h.record(12.34);
  for (let i = 0; i < 4; i++) h.record(700.2);
  h.record(5000);
  assert.deepEqual(h.spread(), { min: 0.05, median: 0.1, p95: 12.4, p99: 701, max: 5000 });
  // A percentile is its bucket's upper edge, clamped to the max when every value is below it.
  const one = new LatencyHistogram();
  one.record(0.05);
  assert.equal(one.percentile(0.5), 0.05);
  // Past 2 s, the overflow bucket gives the exact max.
  assert.equal(h.percentile(1), 5000);
  // A negative value (a mismatched frame) counts as 0 rather than corrupting an index.
  const neg = new LatencyHistogram();
  neg.record(-3);
  assert.deepEqual(neg.spread(), { min: 0, median: 0, p95: 0, p99: 0, max: 0 });
});

test('LatencyProbe: first send of a timestamp counts, only in the window, unmatched frames counted', () => {
  const probe = new LatencyProbe();
  const p = probe.stream();
  p.sent(40, 1000);
  p.sent(40, 1003); // audio with the video's timestamp: the first send is kept
  p.sent(61, 1020);
  p.received(40, 1010); // before the window: not recorded
  assert.equal(probe.summary().frames, 0);
  probe.active = true;
  p.received(40, 1015);
  p.received(61, 1050);
  p.received(62, 1050); // never sent
  const s = probe.summary();
  assert.deepEqual([s.frames, s.unmatched, s.ms?.min, s.ms?.max], [2, 1, 15, 30]);
  // 16 384 ms later the same slot holds the new timestamp; the old one is gone.
  p.sent(40 + 16_384, 2000);
  p.received(40, 2001);
  p.received(40 + 16_384, 2002);
  assert.deepEqual([probe.summary().frames, probe.summary().unmatched], [3, 2]);
  probe.active = false;
  p.received(61, 5000);
  assert.equal(probe.summary().frames, 3);
});

test('LatencyProbe: streams with the same timestamps keep their own send times, one histogram', () => {
  // Two publishers of the same file (--grid), started 500 ms apart: timestamp 40 left A at
  // 1000 and B at 1500. Each player looks up its own stream's publisher.
  const probe = new LatencyProbe();
  const a = probe.stream();
  const b = probe.stream();
  a.sent(40, 1000);
  b.sent(40, 1500);
  b.sent(80, 1540); // A has not sent 80 yet
  probe.active = true;
  a.received(40, 1002);
  b.received(40, 1503);
  b.received(80, 1544);
  a.received(80, 1545); // a frame of A's that A's table does not hold
  const s = probe.summary();
  assert.deepEqual([s.frames, s.unmatched, s.ms?.min, s.ms?.max], [3, 1, 2, 4]);
});
