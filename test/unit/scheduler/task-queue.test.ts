import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskQueue } from '../../../services/scheduler/task-queue.ts';

function queue(o: Partial<ConstructorParameters<typeof TaskQueue>[0]> = {}) {
  const dropped: string[] = [];
  const failed: string[] = [];
  const q = new TaskQueue({
    concurrency: 2,
    maxTracked: 100,
    cooldownMs: 0,
    onDrop: (id) => dropped.push(id),
    onError: (id) => failed.push(id),
    ...o,
  });
  return { q, dropped, failed };
}

/** A task that resolves when the test says so, counting its runs. */
function gate() {
  let runs = 0;
  let release: () => void = () => {};
  const run = (): Promise<void> => {
    runs++;
    return new Promise<void>((r) => (release = r));
  };
  return { run, runs: () => runs, release: () => release() };
}

test('requests for one id while it runs coalesce into one more run', async () => {
  const { q } = queue();
  const g = gate();
  q.request('k', g.run);
  for (let i = 0; i < 50; i++) q.request('k', g.run);
  assert.equal(g.runs(), 1);
  g.release();
  await new Promise((r) => setImmediate(r));
  assert.equal(g.runs(), 2, 'one more run for everything asked meanwhile');
  g.release();
  await q.idle();
  assert.equal(g.runs(), 2);
  assert.equal(q.size, 0);
});

test('at most `concurrency` run at once; the rest wait in order', async () => {
  const { q } = queue({ concurrency: 2 });
  const gates = ['a', 'b', 'c', 'd'].map((id) => ({ id, g: gate() }));
  for (const { id, g } of gates) q.request(id, g.run);
  assert.deepEqual(
    gates.map(({ g }) => g.runs()),
    [1, 1, 0, 0],
  );
  gates[0]!.g.release();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    gates.map(({ g }) => g.runs()),
    [1, 1, 1, 0],
  );
  for (const { g } of gates) g.release();
  await new Promise((r) => setImmediate(r));
  for (const { g } of gates) g.release();
  await q.idle();
  assert.deepEqual(
    gates.map(({ g }) => g.runs()),
    [1, 1, 1, 1],
  );
});

test('over maxTracked ids, requests are dropped and reported; failures are reported', async () => {
  const { q, dropped, failed } = queue({ maxTracked: 3, concurrency: 1 });
  const g = gate();
  for (const id of ['a', 'b', 'c', 'd', 'e']) q.request(id, g.run);
  assert.deepEqual(dropped, ['d', 'e']);
  for (let i = 0; i < 3; i++) {
    g.release();
    await new Promise((r) => setImmediate(r));
  }
  await q.idle();
  assert.equal(q.size, 0);
  q.request('x', () => Promise.reject(new Error('boom')));
  await q.idle();
  assert.deepEqual(failed, ['x']);
});

test('after a run an id rests cooldownMs before it runs again', async () => {
  const { q } = queue({ cooldownMs: 100 });
  let runs = 0;
  const run = (): Promise<void> => {
    runs++;
    return Promise.resolve();
  };
  q.request('k', run);
  await new Promise((r) => setImmediate(r));
  q.request('k', run);
  q.request('k', run);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(runs, 1, 'resting');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(runs, 2);
});
