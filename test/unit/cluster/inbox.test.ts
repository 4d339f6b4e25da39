import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inbox } from '../../../libs/cluster/inbox.ts';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test("inbox: in arrival order, at most `slice` per event-loop turn, never in the pusher's own turn", async () => {
  const seen: number[] = [];
  const inbox = new Inbox<number>((n) => seen.push(n), { slice: 10, onError: assert.fail });
  for (let i = 0; i < 35; i++) assert.equal(inbox.push(i), true);
  assert.deepEqual(seen, [], 'nothing handled inside push');
  await turn();
  assert.deepEqual(
    seen,
    Array.from({ length: 10 }, (_, i) => i),
  );
  await turn();
  await turn();
  await turn();
  assert.deepEqual(
    seen,
    Array.from({ length: 35 }, (_, i) => i),
  );
  assert.equal(inbox.size, 0);
  // Pushes between slices keep their place behind the backlog.
  for (let i = 0; i < 15; i++) inbox.push(100 + i);
  await turn();
  inbox.push(999);
  for (let i = 0; i < 3; i++) await turn();
  assert.deepEqual(seen.slice(35), [...Array.from({ length: 15 }, (_, i) => 100 + i), 999]);
});

test('inbox: the backlog is bounded; over it, pushes are refused until it drains', async () => {
  const seen: number[] = [];
  const inbox = new Inbox<number>((n) => seen.push(n), { slice: 2, max: 5, onError: assert.fail });
  const accepted = Array.from({ length: 8 }, (_, i) => inbox.push(i));
  assert.deepEqual(accepted, [true, true, true, true, true, false, false, false]);
  await turn();
  assert.equal(inbox.push(5), true, 'room again after a slice');
  for (let i = 0; i < 4; i++) await turn();
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
});

test('inbox: an item whose handler throws is reported; the items after it are handled', async () => {
  const seen: number[] = [];
  const errors: [string, number][] = [];
  const inbox = new Inbox<number>(
    (n) => {
      if (n === 1) throw new Error('bad');
      seen.push(n);
    },
    { onError: (e, n) => errors.push([(e as Error).message, n]) },
  );
  for (let i = 0; i < 3; i++) inbox.push(i);
  await turn();
  assert.deepEqual(seen, [0, 2]);
  assert.deepEqual(errors, [['bad', 1]]);
});
