import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DtsEstimator, type TimedFrame } from '../../../libs/rtp/dts.ts';

/** Presentation times (in frames of 40 ms) in decoding order, for GOPs of common encoders. */
const PATTERNS: [string, number[], number][] = [
  ['no B-frames', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0],
  ['one B-frame', [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11], 1],
  ['x264 bframes=3 b-pyramid', [0, 4, 2, 1, 3, 8, 6, 5, 7, 12, 10, 9, 11, 16, 14, 13, 15], 2],
  ['two plain B-frames', [0, 3, 1, 2, 6, 4, 5, 9, 7, 8, 12, 10, 11], 1],
];

function run(pts: number[]): TimedFrame<number>[] {
  const e = new DtsEstimator<number>();
  const out: TimedFrame<number>[] = [];
  pts.forEach((p, i) => out.push(...e.push(1000 + p * 40, i)));
  out.push(...e.flush());
  return out;
}

for (const [name, frames, depth] of PATTERNS) {
  test(`decode times from presentation times: ${name}`, () => {
    const e = new DtsEstimator<number>();
    const out: TimedFrame<number>[] = [];
    frames.forEach((p, i) => out.push(...e.push(1000 + p * 40, i)));
    out.push(...e.flush());
    assert.equal(e.reorderDepth, depth);
    assert.equal(e.corrections, 0);
    assert.deepEqual(
      out.map((f) => f.item),
      frames.map((_, i) => i),
      'every frame, in decoding order',
    );
    for (let i = 0; i < out.length; i++) {
      const f = out[i]!;
      assert.ok(f.dtsMs <= f.ptsMs, `frame ${i}: dts ${f.dtsMs} > pts ${f.ptsMs}`);
      if (i > 0) assert.ok(f.dtsMs > out[i - 1]!.dtsMs, `frame ${i}: dts not increasing`);
    }
    // Steady state: a frame apart.
    const steps = out.slice(depth + 1).map((f, i) => f.dtsMs - out[depth + i]!.dtsMs);
    assert.ok(
      steps.every((s) => s === 40),
      `steps ${steps.join(',')}`,
    );
  });
}

test('holds the first frames only until the reordering is measured', () => {
  const e = new DtsEstimator<number>();
  const got = [0, 4, 2, 1, 3, 8].map((p, i) => e.push(p * 40, i).length);
  assert.deepEqual(got, [0, 0, 0, 0, 0, 6]);
  assert.equal(e.push(6 * 40, 6).length, 1);
});

test('more reordering later than at the start: decode times still increase, the depth grows', () => {
  const pts = [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
    14,
    15,
    ...[0, 4, 2, 1, 3, 8, 6, 5, 7, 12, 10, 9, 11, 16, 14, 13, 15, 20, 18, 17, 19].map((p) => p + 16),
  ];
  const out = run(pts);
  assert.equal(out.length, pts.length);
  for (let i = 1; i < out.length; i++) assert.ok(out[i]!.dtsMs > out[i - 1]!.dtsMs, `frame ${i}`);
  // Once re-measured, frames decode before they are displayed again.
  for (const f of out.slice(-8)) assert.ok(f.dtsMs <= f.ptsMs);
});

test('a presentation timeline that restarts far back starts over instead of stalling', () => {
  const e = new DtsEstimator<number>();
  const out: TimedFrame<number>[] = [];
  for (let i = 0; i < 10; i++) out.push(...e.push(100_000 + i * 40, i));
  for (let i = 0; i < 10; i++) out.push(...e.push(i * 40, 10 + i));
  assert.equal(out.length, 20);
  assert.ok(out[19]!.dtsMs < 1000, `dts ${out[19]!.dtsMs} follows the new timeline`);
});
