import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs } from '../../../libs/webhook/backoff.ts';

describe('webhook backoff (full jitter)', () => {
  it('stays in [0, min(max, base * 2^n)) for every draw', () => {
    for (let n = 0; n < 40; n++) {
      const cap = Math.min(30_000, 500 * 2 ** n);
      assert.equal(
        backoffMs(n, 500, 30_000, () => 0),
        0,
      );
      const top = backoffMs(n, 500, 30_000, () => 0.999999);
      assert.ok(top < cap && top >= cap - 1, `retry ${n}: ${top} vs cap ${cap}`);
      for (let i = 0; i < 50; i++) {
        const d = backoffMs(n, 500, 30_000);
        assert.ok(d >= 0 && d < cap, `retry ${n}: ${d}`);
      }
    }
  });

  it('grows exponentially until the cap', () => {
    const half = (n: number): number => backoffMs(n, 100, 10_000, () => 0.5);
    assert.deepEqual([0, 1, 2, 3, 6, 7, 20].map(half), [50, 100, 200, 400, 3200, 5000, 5000]);
  });
});
