import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import { startRedisSentinel, type TestRedisSentinel } from './helpers/redis-sentinel.ts';
import { A, B, describeRegistrySemantics, mustClaim, nodeInfo, sleep } from './helpers/registry-cases.ts';

// The registry through Redis Sentinel (redis-sentinel:// URL; one master, one replica, one
// sentinel, passwords on both): the shared StreamRegistry table, then a failover.

let sentinel: TestRedisSentinel | undefined;
let prefixN = 0;
const newPrefix = (): string => `s${process.pid}_${++prefixN}`;

before(async () => {
  sentinel = await startRedisSentinel();
});
after(async () => {
  await sentinel?.stop();
});

describeRegistrySemantics(
  'redis sentinel',
  () => new RedisRegistry({ url: sentinel!.url(2), keyPrefix: newPrefix() }),
);

describe('RedisRegistry through Redis Sentinel', () => {
  it('password, sentinel password and db index from the URL; instanceConnected asks the master', async () => {
    const keyPrefix = newPrefix();
    const owner = new RedisRegistry({
      url: sentinel!.url(2),
      keyPrefix,
      clientName: `sluice:origin:${A.instanceId}`,
    });
    const other = new RedisRegistry({ url: sentinel!.url(2), keyPrefix });
    const wrong = new RedisRegistry({
      url: sentinel!.url(2).replace(/sentinelPassword=[^&]*/, 'sentinelPassword=nope'),
      keyPrefix,
      timeoutMs: 500,
    });
    const master = sentinel!.client(await sentinel!.masterPort());
    try {
      await mustClaim(owner, 'live/auth', A);
      await master.select(2);
      assert.equal(await master.exists(`${keyPrefix}:{s:live/auth}:owner`), 1);
      await master.select(0);
      assert.equal(await master.exists(`${keyPrefix}:{s:live/auth}:owner`), 0);
      assert.equal((await other.lookup('live/auth'))?.nodeId, 'A');
      assert.equal(await other.instanceConnected(A.instanceId), true);
      assert.equal(await other.instanceConnected(B.instanceId), false);
      await assert.rejects(wrong.lookup('live/auth'));
      assert.notEqual(wrong.status, 'ready');
    } finally {
      master.disconnect();
      await owner.close();
      await other.close();
      await wrong.close();
    }
  });

  it(
    'failover: the registry follows the new master by itself, onReconnect fires, claims work; a claim lost in the failover is claimed again with a higher epoch',
    { timeout: 40_000 },
    async (t) => {
      const s = sentinel!;
      const keyPrefix = newPrefix();
      const reg = new RedisRegistry({
        url: s.url(2),
        keyPrefix,
        clientName: `sluice:origin:${A.instanceId}`,
      });
      const other = new RedisRegistry({ url: s.url(2), keyPrefix });
      let reconnectedAt = 0;
      reg.onReconnect(() => (reconnectedAt ||= Date.now()));
      const events = s.client(s.sentinelPort);
      let switchedAt = 0;
      events.on('message', () => (switchedAt ||= Date.now()));
      const admin = s.client(s.sentinelPort);
      const oldPort = await s.masterPort();
      const oldMaster = s.client(oldPort);
      let stale: RedisRegistry | undefined;
      try {
        await s.waitReplicaKnown();
        const kept = await mustClaim(reg, 'live/kept', A, 30_000);
        await reg.registerNode(nodeInfo('A'), 30_000);
        // Replicated before the failover, so it must survive it.
        assert.equal(await oldMaster.call('WAIT', '1', '2000'), 1);
        await events.subscribe('+switch-master');

        const t0 = Date.now();
        assert.equal(await admin.call('SENTINEL', 'FAILOVER', s.masterName), 'OK');
        while (!reconnectedAt && Date.now() - t0 < 20_000) await sleep(10);
        assert.ok(reconnectedAt, 'onReconnect did not fire within 20 s');
        let claimedAt = 0;
        while (!claimedAt && Date.now() - t0 < 25_000) {
          if ((await reg.claim('live/new', A, 30_000).catch(() => null))?.ok) claimedAt = Date.now();
          else await sleep(10);
        }
        assert.ok(claimedAt, 'no claim succeeded after the failover');
        const newPort = await s.masterPort();
        t.diagnostic(
          `failover ${oldPort} -> ${newPort}: +switch-master after ${switchedAt - t0} ms, ` +
            `registry ready on the new master (onReconnect) after ${reconnectedAt - t0} ms, ` +
            `first claim after ${claimedAt - t0} ms`,
        );
        assert.notEqual(newPort, oldPort);
        assert.ok(switchedAt > 0);
        // Following the sentinels' announcement, not waiting for the old master to be demoted
        // (which Sentinel does several seconds later).
        assert.ok(
          reconnectedAt - switchedAt < 3000,
          `reconnected ${reconnectedAt - switchedAt} ms after the switch`,
        );

        assert.equal((await reg.lookup('live/kept'))?.epoch, kept);
        assert.equal(await reg.refresh('live/kept', A, kept, 30_000), true);
        assert.equal((await other.getNode('A'))?.instanceId, A.instanceId);
        assert.equal(await other.instanceConnected(A.instanceId), true, 'connected to the new master');

        // A write the old master acknowledged after the promotion (a client that had not
        // heard of the failover yet): asynchronous replication loses it, like the last writes
        // before a failover. It must not survive, and its epoch must not come back.
        assert.equal(((await oldMaster.call('ROLE')) as string[])[0], 'master', 'old master not demoted yet');
        stale = new RedisRegistry({
          url: `redis://:${encodeURIComponent(s.password)}@127.0.0.1:${oldPort}/2`,
          keyPrefix,
        });
        const lost = await mustClaim(stale, 'live/lost', A, 30_000);
        assert.equal(await reg.lookup('live/lost'), null, 'the new master never saw it');
        // What the origin does next: its refresh finds the claim gone, and it claims again.
        assert.equal(await reg.refresh('live/lost', A, lost, 30_000), false);
        const again = await mustClaim(reg, 'live/lost', A, 30_000);
        assert.ok(again > lost, `epoch after the failover ${again} must exceed the lost one ${lost}`);
        const r = await other.claim('live/lost', B, 30_000);
        assert.equal(r.ok ? 0 : r.owner?.epoch, again);
      } finally {
        events.disconnect();
        admin.disconnect();
        oldMaster.disconnect();
        await stale?.close();
        await reg.close();
        await other.close();
      }
    },
  );
});
