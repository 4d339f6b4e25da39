import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultDeleteThreshold, RetiredSegments } from '../../../libs/hls/cleanup.ts';

test('retired segments: the newest `keep` stay, older ones are handed out for deletion in order', () => {
  const r = new RetiredSegments(3);
  assert.deepEqual(r.retire(['s-0.ts']), []);
  assert.deepEqual(r.retire(['s-1.ts', 's-2.ts']), []);
  assert.deepEqual(r.retire(['s-3.ts']), ['s-0.ts']);
  // A window emptied at once (a gap in sequence numbers) retires several.
  assert.deepEqual(r.retire(['s-4.ts', 's-5.ts', 's-6.ts', 's-7.ts']), [
    's-1.ts',
    's-2.ts',
    's-3.ts',
    's-4.ts',
  ]);
  assert.equal(r.size, 3);
  assert.deepEqual(r.clear(), ['s-5.ts', 's-6.ts', 's-7.ts']);
  assert.equal(r.size, 0);
});

test('retired segments: keep 0 deletes at once; bad counts are refused', () => {
  const r = new RetiredSegments(0);
  assert.deepEqual(r.retire(['a.ts', 'b.ts']), ['a.ts', 'b.ts']);
  assert.throws(() => new RetiredSegments(-1), RangeError);
  assert.throws(() => new RetiredSegments(1.5), RangeError);
  // RFC 8216 §6.2.2: the segment's duration plus the playlist's.
  assert.equal(defaultDeleteThreshold(6), 7);
});
