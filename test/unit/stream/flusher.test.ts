import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flusher, type WindowHolder } from '../../../libs/stream/flusher.ts';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/**
 * Holds a window `rounds` times (the next as soon as the last is written), each flush taking
 * `costMs` of writing (or `costMs(round)`); returns, per round, the time from the hold to the end of its flush.
 */
async function windows(
  windowMs: number,
  costMs: number | ((round: number) => number),
  rounds: number,
  f = new Flusher(windowMs),
): Promise<{ f: Flusher; held: number[] }> {
  const held: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const w: WindowHolder = {
        windowHeld: false,
        flushWindow: () => {
          busy(typeof costMs === 'number' ? costMs : costMs(i));
          resolve();
        },
      };
      f.holdWindow(w);
    });
    held.push(performance.now() - t0);
  }
  return { f, held };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('the window bounds the wait including the time to write: the timer fires early by the flush cost', async () => {
  const { f, held } = await windows(100, 30, 10);
  // The first window knows no cost yet: 100 ms + 30 ms of writing.
  assert.ok(held[0]! >= 128, `first ${held[0]!.toFixed(1)} ms`);
  // Later ones learn it: the frame that waited longest is written within about the window.
  const late = median(held.slice(5));
  assert.ok(late <= 120 && late >= 95, `later windows ${held.map((x) => x.toFixed(0)).join(',')}`);
  assert.ok(f.waitMs <= 80 && f.waitMs >= 60, `timer ${f.waitMs.toFixed(1)} ms`);
});

test('a flush slower than half the window does not shorten the timer below half of it', async () => {
  const { f, held } = await windows(40, 35, 6);
  assert.equal(f.waitMs, 20);
  for (const h of held.slice(3)) assert.ok(h >= 54, `${h.toFixed(1)} ms`);
});

test('window 0 flushes at the end of the tick, whatever the flush cost', async () => {
  const { f, held } = await windows(0, 5, 3);
  assert.equal(f.waitMs, 0);
  for (const h of held) assert.ok(h < 30, `${h.toFixed(1)} ms`);
});

test('the estimate takes a slow flush at once and lets go of it slowly', async () => {
  // Fast flushes, then one of 30 ms: the next window closes 30 ms early, not an average's worth.
  const { f } = await windows(100, (i) => (i < 4 ? 2 : 30), 5);
  assert.ok(f.waitMs >= 69 && f.waitMs <= 71, `after the slow flush ${f.waitMs}`);
  // One fast flush after it takes an eighth of the difference off, no more.
  await windows(100, 2, 1, f);
  assert.ok(f.waitMs >= 72 && f.waitMs <= 75, `one fast flush later ${f.waitMs}`);
});
