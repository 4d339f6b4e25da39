import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryRegistry } from '../../libs/cluster/memory-registry.ts';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import { A, B, describeRegistrySemantics, mustClaim, nodeInfo, sleep } from './helpers/registry-cases.ts';
import { startRedis, type TestRedis } from './helpers/redis.ts';

// The StreamRegistry semantics (helpers/registry-cases.ts) against the in-memory registry and
// against the Redis one on a real redis-server; then what only Redis has (auth, db, no
// KEYS/SCAN, scale, restarts).

let server: TestRedis | undefined;
let prefixN = 0;
const newPrefix = (): string => `t${process.pid}_${++prefixN}`;

before(async () => {
  server = await startRedis();
});
after(async () => {
  await server?.stop();
});

describeRegistrySemantics('memory', () => new MemoryRegistry());
describeRegistrySemantics('redis', () => new RedisRegistry({ url: server!.url, keyPrefix: newPrefix() }));

describe('RedisRegistry on a real redis-server', () => {
  it(
    'two nodes share one view; epoch counter outlives claims by a day; epochs follow the Redis clock in µs; stale index entries are tolerated',
    { timeout: 10_000 },
    async () => {
      const keyPrefix = newPrefix();
      const a = new RedisRegistry({ url: server!.url, keyPrefix, indexSlackMs: 100 });
      const b = new RedisRegistry({ url: server!.url, keyPrefix, indexSlackMs: 100 });
      const raw = new Redis(server!.url);
      try {
        const e = await mustClaim(a, 'live/x', A, 300);
        const r = await b.claim('live/x', B, 300);
        assert.equal(r.ok ? null : r.owner?.nodeId, 'A');
        const day = 86_400_000;
        const counterTtl = async (): Promise<number> => raw.pttl(`${keyPrefix}:{s:live/x}:epoch`);
        assert.ok((await counterTtl()) > day - 5000 && (await counterTtl()) <= day);
        const [sec, usec] = (await raw.time()).map(Number) as [number, number];
        const nowUs = sec * 1e6 + usec;
        assert.ok(e <= nowUs && e > nowUs - 5e6, `epoch ${e} is the Redis clock in µs (${nowUs})`);
        const ownerTtl = await raw.pttl(`${keyPrefix}:{s:live/x}:owner`);
        assert.ok(ownerTtl > 0 && ownerTtl <= 300, `owner ttl ${ownerTtl}`);
        assert.equal(await a.release('live/x', A, e), true);
        assert.ok((await counterTtl()) > day - 5000, 'the counter stays after the release');
        assert.equal(await raw.get(`${keyPrefix}:{s:live/x}:epoch`), String(e));
        // A counter gone (expired, or lost in a failover) never lets an epoch be reused.
        await raw.del(`${keyPrefix}:{s:live/x}:epoch`);
        const e2 = await mustClaim(a, 'live/x', A, 300);
        assert.ok(e2 > e);
        assert.equal(await a.release('live/x', A, e2), true);

        // An index entry whose key is gone (a crash between script and ZADD, a lost ZREM).
        await raw.zadd(`${keyPrefix}:{idx}:streams`, Date.now() + 60_000, '7:live/ghost');
        await raw.zadd(`${keyPrefix}:{idx}:nodes`, Date.now() + 60_000, 'ghost');
        assert.deepEqual(await b.listStreams(), []);
        assert.deepEqual(await b.listNodes(), []);

        // Entries long past their expiry are pruned by readers.
        await mustClaim(a, 'live/y', A, 100);
        await a.registerNode(nodeInfo('A'), 100);
        await sleep(300);
        assert.deepEqual(await b.listStreams(), []);
        assert.deepEqual(await b.listNodes(), []);
        assert.deepEqual(await raw.zrange(`${keyPrefix}:{idx}:streams`, '0', '-1'), ['7:live/ghost']);
        assert.deepEqual(await raw.zrange(`${keyPrefix}:{idx}:nodes`, '0', '-1'), ['ghost']);
      } finally {
        raw.disconnect();
        await a.close();
        await b.close();
      }
    },
  );

  it(
    'instanceConnected: true while the named connection is open, false once it is closed, null when CLIENT is not allowed',
    { timeout: 10_000 },
    async () => {
      const keyPrefix = newPrefix();
      const owner = new RedisRegistry({
        url: server!.url,
        keyPrefix,
        clientName: `sluice:origin:${A.instanceId}`,
      });
      const other = new RedisRegistry({ url: server!.url, keyPrefix });
      const admin = new Redis(server!.url);
      try {
        await mustClaim(owner, 'live/conn', A);
        assert.equal(await other.instanceConnected(A.instanceId), true);
        assert.equal(await other.instanceConnected(B.instanceId), false);
        await owner.close();
        const until = Date.now() + 2000;
        while ((await other.instanceConnected(A.instanceId)) && Date.now() < until) await sleep(20);
        assert.equal(await other.instanceConnected(A.instanceId), false);
        // A user without the CLIENT command (managed Redis may restrict it): cannot tell.
        await admin.call('ACL', 'SETUSER', 'limited', 'on', '>pw', '~*', '+@all', '-client');
        const limited = new RedisRegistry({
          url: `redis://limited:pw@127.0.0.1:${server!.port}`,
          keyPrefix,
        });
        try {
          assert.equal(await limited.instanceConnected(A.instanceId), null);
        } finally {
          await limited.close();
        }
      } finally {
        admin.disconnect();
        await owner.close();
        await other.close();
      }
    },
  );

  it('lists without KEYS or SCAN (seen by MONITOR)', { timeout: 10_000 }, async () => {
    const reg = new RedisRegistry({ url: server!.url, keyPrefix: newPrefix() });
    // monitor() opens a second connection of its own; the base one never needs to connect.
    const base = new Redis(server!.url, { lazyConnect: true });
    const mon = await base.monitor();
    const seen: string[] = [];
    mon.on('monitor', (_time: string, args: string[]) => seen.push(String(args[0]).toUpperCase()));
    try {
      for (let i = 0; i < 5; i++) await mustClaim(reg, `live/m${i}`, A);
      await reg.registerNode(nodeInfo('A'), 5000);
      assert.equal((await reg.listStreams()).length, 5);
      assert.equal((await reg.listNodes()).length, 1);
      await reg.lookup('live/m0');
      await reg.getNode('A');
      const until = Date.now() + 2000;
      while (!seen.includes('GET') && Date.now() < until) await sleep(20);
      assert.ok(seen.includes('ZRANGEBYSCORE') && seen.includes('HGETALL'), `monitor saw ${seen.join(' ')}`);
      for (const cmd of seen) assert.ok(!/^(KEYS|SCAN|HSCAN|ZSCAN|SSCAN)$/.test(cmd), `used ${cmd}`);
    } finally {
      mon.disconnect();
      base.disconnect();
      await reg.close();
    }
  });

  it('password and db index from the URL', { timeout: 10_000 }, async () => {
    const secured = await startRedis({ password: 's3cr:et/@x' });
    const reg = new RedisRegistry({ url: `${secured.url}/3`, keyPrefix: 'p' });
    const wrong = new RedisRegistry({
      url: `redis://:nope@127.0.0.1:${secured.port}/3`,
      keyPrefix: 'p',
      timeoutMs: 500,
    });
    const db3 = new Redis(`${secured.url}/3`);
    const db0 = new Redis(secured.url);
    try {
      await mustClaim(reg, 'live/auth', A);
      assert.equal(await db3.exists('p:{s:live/auth}:owner'), 1);
      assert.equal(await db0.exists('p:{s:live/auth}:owner'), 0);
      assert.equal((await reg.lookup('live/auth'))?.nodeId, 'A');
      await assert.rejects(wrong.lookup('live/auth'));
      assert.notEqual(wrong.status, 'ready');
    } finally {
      db3.disconnect();
      db0.disconnect();
      await reg.close();
      await wrong.close();
      await secured.stop();
    }
  });

  it(
    '2500 claims (the index read in pages of 1000): listStreams and listStreamEpochs return each once',
    { timeout: 20_000 },
    async (t) => {
      const reg = new RedisRegistry({ url: server!.url, keyPrefix: newPrefix() });
      try {
        const t0 = performance.now();
        const rs = await Promise.all(
          Array.from({ length: 2500 }, (_, i) => reg.claim(`live/s${i}`, A, 30_000)),
        );
        const claimMs = performance.now() - t0;
        assert.ok(rs.every((r) => r.ok));
        const t1 = performance.now();
        const list = await reg.listStreams();
        const listMs = performance.now() - t1;
        assert.equal(list.length, 2500);
        assert.equal(new Set(list.map((o) => o.key)).size, 2500);
        const epochs = await reg.listStreamEpochs();
        assert.equal(epochs.size, 2500);
        assert.ok(rs.every((r, i) => r.ok && epochs.get(`live/s${i}`) === r.epoch));
        t.diagnostic(`2500 claims ${claimMs.toFixed(0)} ms, listStreams ${listMs.toFixed(0)} ms`);
      } finally {
        await reg.close();
      }
    },
  );

  it(
    'Redis killed: calls reject fast; after restart it reconnects, onReconnect fires, claims work',
    { timeout: 20_000 },
    async () => {
      const own = await startRedis();
      const reg = new RedisRegistry({ url: own.url, keyPrefix: 'k' });
      let reconnects = 0;
      reg.onReconnect(() => reconnects++);
      try {
        const e = await mustClaim(reg, 'live/k', A);
        assert.equal(reg.status, 'ready');
        await own.kill9();
        const calls = [
          reg.refresh('live/k', A, e, 5000),
          reg.claim('live/k2', A, 5000),
          reg.listStreams(),
          reg.registerNode(nodeInfo('A'), 5000),
        ];
        const tKill = Date.now();
        const settled = await Promise.allSettled(calls);
        const ms = Date.now() - tKill;
        assert.ok(
          settled.every((s) => s.status === 'rejected'),
          JSON.stringify(settled),
        );
        console.log(`# calls rejected ${ms} ms after the kill`);
        assert.ok(ms < 2200, `rejected after ${ms} ms`);
        // A call may fail on the half-closed socket before ioredis has seen the close.
        while (reg.status === 'ready' && Date.now() - tKill < 2000) await sleep(10);
        assert.notEqual(reg.status, 'ready');
        assert.equal(reconnects, 0);
        await own.restart();
        const t0 = Date.now();
        while (reconnects === 0 && Date.now() - t0 < 6000) await sleep(20);
        console.log(`# reconnected ${Date.now() - t0} ms after restart`);
        assert.equal(reconnects, 1);
        assert.equal(reg.status, 'ready');
        // The crash lost the claim and the epoch counter (no persistence); the counter is
        // re-seeded from the clock, so the fencing epoch still goes up.
        assert.equal(await reg.lookup('live/k'), null);
        assert.equal(await reg.refresh('live/k', A, e, 5000), false);
        const after = await mustClaim(reg, 'live/k', A);
        assert.ok(after > e, `epoch after the crash ${after} must exceed ${e}`);
        assert.equal((await reg.listStreams()).length, 1);
      } finally {
        await reg.close();
        await own.stop();
      }
    },
  );
});
