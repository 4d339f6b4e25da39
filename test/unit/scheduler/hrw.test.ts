import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash01, hrwPick, hrwScore, seedOf, unit } from '../../../services/scheduler/hrw.ts';

const keys = (n: number): string[] => Array.from({ length: n }, (_, i) => `live/stream-${i}`);

function tally(ids: string[], weight: (id: string) => number, n = 1000): Map<string, number> {
  const out = new Map(ids.map((id) => [id, 0]));
  for (const k of keys(n)) {
    const w = hrwPick(k, ids, (id) => id, weight)!;
    out.set(w, out.get(w)! + 1);
  }
  return out;
}

test('hash01 is in (0, 1), deterministic, and depends on both inputs', () => {
  for (const [k, id] of [
    ['live/a', 'edge-1'],
    ['a/b', 'c'],
    ['', ''],
  ] as const) {
    const h = hash01(k, id);
    assert.ok(h > 0 && h < 1, `${h}`);
    assert.equal(hash01(k, id), h);
  }
  assert.notEqual(hash01('live/a', 'edge-1'), hash01('live/a', 'edge-2'));
  assert.notEqual(hash01('live/a', 'edge-1'), hash01('live/b', 'edge-1'));
  // The separator keeps concatenation ambiguity out.
  assert.notEqual(hash01('ab', 'c'), hash01('a', 'bc'));
});

test('hrwScore: weight 0 or less never beats a positive weight; higher weight, higher score', () => {
  assert.equal(hrwScore('live/a', 'e1', 0), 0);
  assert.equal(hrwScore('live/a', 'e1', -5), 0);
  assert.equal(hrwScore('live/a', 'e1', NaN), 0);
  assert.ok(hrwScore('live/a', 'e1', 1) > 0);
  assert.ok(hrwScore('live/a', 'e1', 2) > hrwScore('live/a', 'e1', 1));
});

test('hrwPick is stable for the same inputs, whatever the list order', () => {
  const ids = ['edge-1', 'edge-2', 'edge-3', 'edge-4'];
  for (const k of keys(50)) {
    const a = hrwPick(
      k,
      ids,
      (x) => x,
      () => 10,
    );
    const b = hrwPick(
      k,
      [...ids].reverse(),
      (x) => x,
      () => 10,
    );
    assert.equal(a, b, k);
  }
  assert.equal(
    hrwPick(
      'live/a',
      [],
      (x: string) => x,
      () => 1,
    ),
    null,
  );
});

test('1000 keys over 4 equal edges land 150..350 each', () => {
  const t = tally(['edge-1', 'edge-2', 'edge-3', 'edge-4'], () => 100);
  for (const [id, n] of t) assert.ok(n >= 150 && n <= 350, `${id}: ${n}`);
});

test('an edge with 3x the free capacity gets clearly more keys (about 3/6 vs 1/6 each)', () => {
  const t = tally(['big', 'small-1', 'small-2', 'small-3'], (id) => (id === 'big' ? 300 : 100));
  const big = t.get('big')!;
  assert.ok(big >= 400 && big <= 600, `big: ${big}`);
  for (const id of ['small-1', 'small-2', 'small-3']) {
    const n = t.get(id)!;
    assert.ok(n >= 100 && n <= 240 && big > 2 * n, `${id}: ${n} vs big ${big}`);
  }
});

test('removing an edge only moves the keys that were on it', () => {
  const all = ['edge-1', 'edge-2', 'edge-3', 'edge-4'];
  const rest = all.filter((x) => x !== 'edge-3');
  let moved = 0;
  for (const k of keys(500)) {
    const before = hrwPick(
      k,
      all,
      (x) => x,
      () => 1,
    )!;
    const after = hrwPick(
      k,
      rest,
      (x) => x,
      () => 1,
    )!;
    if (before !== 'edge-3') assert.equal(after, before, k);
    else moved++;
  }
  assert.ok(moved > 0);
});

test('fixed values: every replica and release hashes alike (changing them reshuffles every route)', () => {
  assert.equal(hash01('live/a', 'edge-1'), 0.6052065673636822);
  assert.equal(hash01('live/a', 'edge-2'), 0.5834304384505333);
  assert.equal(hash01('app/room/42', 'e'), 0.224422983991949);
  assert.deepEqual(seedOf('edge-1'), { a: 1943314889, b: 274237325 });
  assert.notEqual(hash01('a', 'b'), hash01('b', 'a'));
});

test('uniform: 100k (key, node) values spread evenly over ten bins', () => {
  const bins = new Array<number>(10).fill(0);
  const nodes = Array.from({ length: 100 }, (_, i) => seedOf(`edge-${i}`));
  for (let k = 0; k < 1000; k++) {
    const ks = seedOf(`live/stream-${k}`);
    for (const n of nodes) bins[Math.floor(unit(ks, n) * 10)]!++;
  }
  // Chi-square with 9 degrees of freedom; 27.9 is the 0.1% critical value.
  const chi = bins.reduce((sum, b) => sum + (b - 10_000) ** 2 / 10_000, 0);
  assert.ok(chi < 27.9, `chi-square ${chi.toFixed(1)}: ${bins.join(' ')}`);
});

test('independent across nodes: the ranking of three edges is any of the six orders equally often', () => {
  const ids = ['edge-a', 'edge-b', 'edge-c'];
  const counts = new Map<string, number>();
  for (const k of keys(6000)) {
    const order = [...ids].sort((x, y) => hash01(k, y) - hash01(k, x)).join(',');
    counts.set(order, (counts.get(order) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  for (const [o, n] of counts) assert.ok(n > 850 && n < 1150, `${o}: ${n}`);
});
