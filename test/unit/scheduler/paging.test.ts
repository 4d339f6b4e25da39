import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeCursor, encodeCursor, parsePage } from '../../../services/scheduler/page.ts';
import { SortedKeys } from '../../../services/scheduler/sorted-keys.ts';
import { harness, node, proc, register, type Harness } from './fixtures.ts';

// Paged listings: stable key order, O(page) per request, cursors that survive changes.

async function withStreams(keys: string[]): Promise<Harness> {
  const h = harness();
  await register(h.reg, node({ id: 'o1', role: 'origin' }));
  for (const k of keys) assert.ok((await h.reg.claim(k, proc('o1'), 60_000)).ok);
  h.core.start();
  await h.settle();
  return h;
}

const page = (h: Harness, limit: number, cursor?: string | null) => {
  const q = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
  const p = parsePage('streams', q);
  assert.ok(!('error' in p));
  const b = h.core.scheduler.streams(p).body;
  return { keys: b.streams.map((s) => s.key), next: b.nextCursor, total: b.total };
};

test('empty: no streams, no cursor', async () => {
  const h = await withStreams([]);
  assert.deepEqual(page(h, 100), { keys: [], next: null, total: 0 });
  const n = h.core.scheduler.nodes({ limit: 5, after: null }).body;
  assert.deepEqual([n.nodes.length, n.nextCursor], [1, null]);
  h.core.stop();
});

test('exact pages: the last full page says there is no next one', async () => {
  const h = await withStreams(['live/d', 'live/b', 'live/a', 'live/c']);
  const p1 = page(h, 2);
  assert.deepEqual(p1.keys, ['live/a', 'live/b']);
  assert.ok(p1.next);
  const p2 = page(h, 2, p1.next);
  assert.deepEqual(p2, { keys: ['live/c', 'live/d'], next: null, total: 4 });
  assert.deepEqual(page(h, 4), { keys: ['live/a', 'live/b', 'live/c', 'live/d'], next: null, total: 4 });
  h.core.stop();
});

test('a cursor past the end gives an empty last page; a cursor whose key is gone still works', async () => {
  const h = await withStreams(['live/a', 'live/b', 'live/c', 'live/d', 'live/e']);
  assert.deepEqual(page(h, 10, encodeCursor('streams', 'live/zzz')), { keys: [], next: null, total: 5 });
  const p1 = page(h, 2);
  assert.deepEqual(p1.keys, ['live/a', 'live/b']);
  // live/b (the cursor's key) ends, live/aa starts before the cursor, live/bb after it.
  const b = await h.reg.lookup('live/b');
  assert.ok(await h.reg.release('live/b', proc('o1'), b!.epoch));
  assert.ok((await h.reg.claim('live/aa', proc('o1'), 60_000)).ok);
  assert.ok((await h.reg.claim('live/bb', proc('o1'), 60_000)).ok);
  await h.core.reconciler.runOnce();
  const p2 = page(h, 2, p1.next);
  assert.deepEqual(p2.keys, ['live/bb', 'live/c']);
  assert.deepEqual(page(h, 2, p2.next).keys, ['live/d', 'live/e']);
  h.core.stop();
});

test('cursors: round trip for any key; foreign, truncated or altered tokens are refused', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 600, unit: 'binary' }), (key) => {
      const t = encodeCursor('nodes', key);
      assert.match(t, /^[A-Za-z0-9_-]+$/);
      if (Buffer.from(key, 'utf8').toString('utf8') === key) assert.equal(decodeCursor('nodes', t), key);
      assert.equal(decodeCursor('streams', t), null);
    }),
  );
  const t = encodeCursor('streams', 'live/abc');
  assert.equal(decodeCursor('streams', t), 'live/abc');
  for (const bad of ['', t + '=', t.slice(0, -1), 'not a cursor', '/+', 'x'.repeat(5000)]) {
    assert.equal(decodeCursor('streams', bad), null, bad);
  }
  assert.equal(decodeCursor('streams', encodeCursor('streams', '')), null, 'an empty key is never a cursor');
});

test('limit: default 100, 1..1000', () => {
  assert.deepEqual(parsePage('nodes', new URLSearchParams()), { limit: 100, after: null });
  assert.deepEqual(parsePage('nodes', new URLSearchParams('limit=1000')), { limit: 1000, after: null });
  for (const l of ['0', '1001', '-5', '1e3', '01.0', ' 5', 'ten', '99999999']) {
    assert.ok('error' in parsePage('nodes', new URLSearchParams({ limit: l })), l);
  }
});

test('SortedKeys behaves like a sorted array of unique keys, through inserts, deletes and pages', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 })), { maxLength: 4000 }),
      fc.integer({ min: 0, max: 3001 }),
      fc.integer({ min: 1, max: 700 }),
      (ops, from, limit) => {
        const s = new SortedKeys();
        const model = new Set<string>();
        const key = (n: number): string => `k${String(n).padStart(4, '0')}`;
        for (const [add, n] of ops) {
          if (add) assert.equal(s.add(key(n)), !model.has(key(n)));
          else assert.equal(s.delete(key(n)), model.has(key(n)));
          if (add) model.add(key(n));
          else model.delete(key(n));
        }
        const sorted = [...model].sort();
        assert.equal(s.size, sorted.length);
        assert.deepEqual(s.toArray(), sorted);
        const after = key(from);
        assert.deepEqual(s.page(after, limit), sorted.filter((k) => k > after).slice(0, limit));
        assert.deepEqual(s.page(null, limit), sorted.slice(0, limit));
        for (const n of [0, from, 3000]) assert.equal(s.has(key(n)), model.has(key(n)));
      },
    ),
    { numRuns: 60 },
  );
});
