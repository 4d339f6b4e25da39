import assert from 'node:assert/strict';
import { test } from 'node:test';
import { growth, growthWindows } from './growth.ts';

test('windows: warm-up is 20 % of the run or 2 minutes, whichever is shorter', () => {
  assert.deepEqual(growthWindows(60), { warmupS: 12, baseline: [12, 24], late: [48, 60] });
  assert.deepEqual(growthWindows(1800), { warmupS: 120, baseline: [120, 480], late: [1440, 1800] });
});

test('growth compares the late median with the baseline median, skipping warm-up and gaps', () => {
  const w = growthWindows(100); // warm-up 20, baseline 20..40, late 80..100
  const pts = [
    { t: 0, v: 1000 }, // warm-up spike: ignored
    { t: 20, v: 100 },
    { t: 30, v: 90 },
    { t: 40, v: 110 },
    { t: 60, v: 500 }, // between the windows: ignored
    { t: 80, v: 120 },
    { t: 90, v: null }, // unanswered sample: skipped
    { t: 100, v: 130 },
  ];
  const g = growth(pts, w);
  assert.equal(g.baseline, 100);
  assert.equal(g.late, 125);
  assert.equal(g.growth, 0.25);
  assert.deepEqual(g.samples, { baseline: 3, late: 2 });
});

test('growth is null when a window is empty', () => {
  assert.equal(growth([{ t: 25, v: 1 }], growthWindows(100)).growth, null);
});

test('a gauge that starts late: the first value after the baseline window stands in, if asked', () => {
  const w = growthWindows(100); // baseline 20..40, late 80..100
  const pts = [
    { t: 30, v: null },
    { t: 50, v: 200 },
    { t: 90, v: 210 },
  ];
  assert.equal(growth(pts, w).growth, null);
  const g = growth(pts, w, { lateBaseline: true });
  assert.equal(g.baseline, 200);
  assert.equal(g.baselineFromS, 50);
  assert.ok(Math.abs(g.growth! - 0.05) < 1e-9);
  // Nothing before the late window: still unmeasured.
  assert.equal(
    growth(
      [
        { t: 85, v: 1 },
        { t: 90, v: 1 },
      ],
      w,
      { lateBaseline: true },
    ).growth,
    null,
  );
});
