import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeInfo, StreamOwner } from '../../../libs/cluster/types.ts';
import { RegistryCache, type RegistrySource } from '../../../services/scheduler/registry-cache.ts';

function counting(): { reader: RegistrySource; calls: Record<string, number>; fail: { on: boolean } } {
  const calls: Record<string, number> = { nodes: 0, streams: 0, lookup: 0 };
  const fail = { on: false };
  const answer = <T>(name: string, v: T): Promise<T> => {
    calls[name]!++;
    return fail.on ? Promise.reject(new Error('down')) : Promise.resolve(v);
  };
  return {
    calls,
    fail,
    reader: {
      listNodes: () => answer<NodeInfo[]>('nodes', []),
      getPresence: () => Promise.resolve(null),
      listStreams: () => answer<StreamOwner[]>('streams', []),
      lookup: (k) =>
        answer<StreamOwner | null>('lookup', k === 'live/a' ? ({ key: k } as StreamOwner) : null),
    },
  };
}

test('reads within ttl are shared, after it they go to the registry again', async () => {
  const clock = { t: 0 };
  const { reader, calls } = counting();
  const c = new RegistryCache(reader, 500, () => clock.t);
  await Promise.all([
    c.listNodes(),
    c.listNodes(),
    c.listStreams(),
    c.lookup('live/a'),
    c.lookup('live/a'),
    c.lookup('live/b'),
  ]);
  assert.deepEqual(calls, { nodes: 1, streams: 1, lookup: 2 });
  clock.t = 499;
  await c.listNodes();
  assert.equal(calls.nodes, 1);
  clock.t = 500;
  await c.listNodes();
  assert.equal(calls.nodes, 2);
  assert.deepEqual(await c.lookup('live/a'), { key: 'live/a' });
});

test('ttl 0 caches nothing', async () => {
  const { reader, calls } = counting();
  const c = new RegistryCache(reader, 0, () => 0);
  await c.listNodes();
  await c.listNodes();
  assert.equal(calls.nodes, 2);
});

test('failures are not kept', async () => {
  const { reader, calls, fail } = counting();
  const c = new RegistryCache(reader, 1000, () => 0);
  fail.on = true;
  await assert.rejects(c.listNodes());
  fail.on = false;
  assert.deepEqual(await c.listNodes(), []);
  assert.equal(calls.nodes, 2);
});

test('a flood of distinct keys stays bounded and correct', async () => {
  const clock = { t: 0 };
  const { reader } = counting();
  const c = new RegistryCache(reader, 1000, () => clock.t);
  for (let i = 0; i < 25_000; i++) await c.lookup(`live/k${i}`);
  assert.deepEqual(await c.lookup('live/a'), { key: 'live/a' });
});
