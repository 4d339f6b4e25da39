import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetiredSegments } from '../../../libs/hls/cleanup.ts';

test('retired segments: deleted after their duration plus the playlist duration (RFC 8216 §6.2.2)', () => {
  const r = new RetiredSegments(100);
  // s-0 (2 s) left a 12 s window when the stream was at 14 s: kept until 28 s.
  r.retire('s-0.ts', 2000, 12_000, 14_000);
  r.retire('s-1.ts', 2000, 12_000, 16_000);
  assert.deepEqual(r.due(27_999), []);
  assert.deepEqual(r.due(28_000), ['s-0.ts']);
  assert.deepEqual(r.due(29_000), []);
  assert.deepEqual(r.due(40_000), ['s-1.ts']);
  assert.equal(r.size, 0);
});

test('retired segments: at most maxRetired wait, whatever their age', () => {
  const r = new RetiredSegments(2);
  for (let i = 0; i < 5; i++) r.retire(`s-${i}.ts`, 2000, 12_000, 14_000 + i * 2000);
  assert.deepEqual(r.due(20_000), ['s-0.ts', 's-1.ts', 's-2.ts']);
  assert.equal(r.size, 2);
  assert.deepEqual(r.clear(), ['s-3.ts', 's-4.ts']);
  assert.deepEqual(r.due(1e12), []);
});
