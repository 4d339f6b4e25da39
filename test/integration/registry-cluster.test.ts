import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import { startRedisCluster, type TestRedisCluster } from './helpers/redis-cluster.ts';
import { A, B, describeRegistrySemantics, mustClaim, nodeInfo, sleep } from './helpers/registry-cases.ts';

// The registry on a Redis Cluster of three masters (redis-cluster:// URL): the shared
// StreamRegistry table, then what a cluster adds: keys of one registry on every master,
// listings across slots, instanceConnected asking each master, a master lost and back.

let cluster: TestRedisCluster | undefined;
let prefixN = 0;
const newPrefix = (): string => `c${process.pid}_${++prefixN}`;

before(async () => {
  cluster = await startRedisCluster(3);
});
after(async () => {
  await cluster?.stop();
});

describeRegistrySemantics(
  'redis cluster',
  () => new RedisRegistry({ url: cluster!.url, keyPrefix: newPrefix() }),
);

/** Index (into cluster.ports) of the master serving `key`'s slot. */
async function masterOf(key: string): Promise<number> {
  const c = cluster!.client(0);
  try {
    const slot = Number(await c.call('CLUSTER', 'KEYSLOT', key));
    const ranges = (await c.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const r = ranges.find(([from, to]) => slot >= from && slot <= to);
    assert.ok(r, `slot ${slot} unassigned`);
    return cluster!.ports.indexOf(Number(r[2][1]));
  } finally {
    c.disconnect();
  }
}

/** Keys of `prefix` stored on master `i` (KEYS: test-side only). */
async function keysOn(i: number, prefix: string): Promise<string[]> {
  const c = cluster!.client(i);
  try {
    return await c.keys(`${prefix}:*`);
  } finally {
    c.disconnect();
  }
}

describe('RedisRegistry on a Redis Cluster of 3 masters', () => {
  it('1000 claims and 12 nodes land on every master; listStreams and listNodes read across slots', async (t) => {
    const keyPrefix = newPrefix();
    const reg = new RedisRegistry({ url: cluster!.url, keyPrefix });
    try {
      const t0 = performance.now();
      const rs = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => reg.claim(`live/s${i}`, A, 30_000)),
      );
      const claimMs = performance.now() - t0;
      assert.ok(rs.every((r) => r.ok));
      for (let i = 0; i < 12; i++) await reg.registerNode(nodeInfo(`N${i}`), 30_000);
      await reg.writePresence(
        A,
        1,
        { 'live/s1': { viewers: 3, relaying: true, publishing: false } },
        true,
        30_000,
      );

      const perMaster = await Promise.all(cluster!.ports.map((_, i) => keysOn(i, keyPrefix)));
      const owners = perMaster.map((ks) => ks.filter((k) => k.endsWith(':owner')).length);
      t.diagnostic(`owner keys per master: ${owners.join(', ')}`);
      for (const n of owners) assert.ok(n > 100, `a master holds only ${n} of 1000 claims`);
      assert.equal(
        owners.reduce((a, b) => a + b),
        1000,
      );

      const t1 = performance.now();
      const list = await reg.listStreams();
      const listMs = performance.now() - t1;
      assert.equal(list.length, 1000);
      assert.equal(new Set(list.map((o) => o.key)).size, 1000);
      for (const o of list) assert.deepEqual([o.nodeId, o.instanceId], ['A', A.instanceId]);
      const nodes = await reg.listNodes();
      assert.deepEqual(
        nodes.map((n) => n.nodeId).sort(),
        Array.from({ length: 12 }, (_, i) => `N${i}`).sort(),
      );
      assert.equal((await reg.getPresence('A'))?.streams['live/s1']?.viewers, 3);
      t.diagnostic(`1000 claims ${claimMs.toFixed(0)} ms, listStreams ${listMs.toFixed(0)} ms`);
      assert.ok(listMs < 1500, `listStreams took ${listMs} ms`);
    } finally {
      await reg.close();
    }
  });

  it(
    'instanceConnected asks every master: a connection to any one proves life, none proves death, a silent master cannot tell',
    { timeout: 20_000 },
    async () => {
      const keyPrefix = newPrefix();
      const other = new RedisRegistry({ url: cluster!.url, keyPrefix, timeoutMs: 500 });
      const owner = new RedisRegistry({
        url: cluster!.url,
        keyPrefix,
        clientName: `sluice:origin:${A.instanceId}`,
      });
      try {
        await mustClaim(owner, 'live/conn', A);
        assert.equal(await other.instanceConnected(A.instanceId), true);
        assert.equal(await other.instanceConnected(B.instanceId), false);
        await owner.close();
        // A process that used one master only (a plain connection to it) is found on that one.
        for (let i = 0; i < cluster!.ports.length; i++) {
          const c = cluster!.client(i);
          await c.call('CLIENT', 'SETNAME', `sluice:origin:${B.instanceId}`);
          try {
            assert.equal(await other.instanceConnected(B.instanceId), true, `connected to master ${i} only`);
          } finally {
            c.disconnect();
          }
          const until = Date.now() + 2000;
          while ((await other.instanceConnected(B.instanceId)) && Date.now() < until) await sleep(20);
          assert.equal(await other.instanceConnected(B.instanceId), false, `closed on master ${i}`);
        }
        assert.equal(
          await other.instanceConnected(A.instanceId),
          false,
          'the closed registry is gone from all',
        );
        // One master not answering: absence elsewhere proves nothing.
        cluster!.pause(2);
        try {
          assert.equal(await other.instanceConnected(A.instanceId), null);
        } finally {
          cluster!.resume(2);
        }
        assert.equal(await other.instanceConnected(A.instanceId), false);
      } finally {
        cluster!.resume(2);
        await owner.close();
        await other.close();
      }
    },
  );

  it(
    'a master killed and started empty: its keys fail fast while the others work; then a lost claim is claimed again with a higher epoch',
    { timeout: 30_000 },
    async (t) => {
      const reg = new RedisRegistry({ url: cluster!.url, keyPrefix: newPrefix(), timeoutMs: 500 });
      let reconnects = 0;
      reg.onReconnect(() => reconnects++);
      try {
        const keys = Array.from({ length: 12 }, (_, i) => `live/k${i}`);
        const epochs = new Map<string, number>();
        for (const k of keys) epochs.set(k, await mustClaim(reg, k, A, 60_000));
        const where = new Map<string, number>();
        for (const k of keys) where.set(k, await masterOf(`{s:${k}}`));
        const lostKey = keys.find((k) => where.get(k) === 2);
        const keptKey = keys.find((k) => where.get(k) !== 2);
        assert.ok(lostKey && keptKey, `keys by master: ${JSON.stringify([...where])}`);

        await cluster!.kill9(2);
        const tKill = Date.now();
        await assert.rejects(reg.refresh(lostKey, A, epochs.get(lostKey)!, 60_000));
        const failMs = Date.now() - tKill;
        assert.equal(
          await reg.refresh(keptKey, A, epochs.get(keptKey)!, 60_000),
          true,
          'other masters still work',
        );
        assert.equal((await reg.lookup(keptKey))?.epoch, epochs.get(keptKey));

        await cluster!.start(2);
        const tStart = Date.now();
        let refreshed: boolean | undefined;
        while (refreshed === undefined && Date.now() - tStart < 15_000) {
          refreshed = await reg.refresh(lostKey, A, epochs.get(lostKey)!, 60_000).catch(() => undefined);
          if (refreshed === undefined) await sleep(50);
        }
        const backMs = Date.now() - tStart;
        t.diagnostic(
          `a call for the dead master failed after ${failMs} ms; answered ${backMs} ms after its restart`,
        );
        assert.equal(refreshed, false, 'the restarted master lost the claim: refresh says so');
        assert.equal(await reg.lookup(lostKey), null);
        const again = await mustClaim(reg, lostKey, A, 60_000);
        assert.ok(
          again > epochs.get(lostKey)!,
          `epoch after the loss ${again} must exceed ${epochs.get(lostKey)}`,
        );
        const r = await reg.claim(lostKey, B, 60_000);
        assert.equal(r.ok ? '' : r.owner?.epoch, again);
        // The cluster client never closed: one master's loss is not a reconnect.
        assert.equal(reconnects, 0);
        assert.equal(reg.status, 'ready');
      } finally {
        await reg.close();
        await cluster!.start(2).catch(() => undefined);
      }
    },
  );
});
