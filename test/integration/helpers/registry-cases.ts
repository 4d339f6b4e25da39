import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Holder, NodeInfo, StreamRegistry } from '../../../libs/cluster/types.ts';

// The StreamRegistry semantics, written once: registry.test.ts runs them against the
// in-memory registry and one redis-server, registry-cluster.test.ts against a Redis Cluster,
// registry-sentinel.test.ts against a Sentinel-managed master.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A process of node `nodeId` (instance `n` of it: two processes may share a node id). */
export const h = (nodeId: string, n = 1): Holder => ({ nodeId, instanceId: `${nodeId}-instance-${n}` });
export const A = h('A');
export const B = h('B');

export function nodeInfo(nodeId: string, viewers = 0, n = 1): NodeInfo {
  return {
    nodeId,
    instanceId: h(nodeId, n).instanceId,
    role: 'origin',
    internal: { rtmp: '10.0.0.1:1935' },
    public: { rtmp: 'a.example:1935', http: 'a.example:8080' },
    protocols: ['rtmp', 'flv', 'ws-flv'],
    load: {
      publishers: 1,
      players: viewers,
      relays: 0,
      bytesInPerSec: 1000,
      bytesOutPerSec: 2000,
      cpuPercent: 12.5,
      maxConnections: 1000,
    },
    draining: false,
    startedAt: 1_700_000_000_000,
    updatedAt: 1_700_000_001_000,
  };
}

export async function mustClaim(
  reg: StreamRegistry,
  key: string,
  who: Holder,
  leaseMs = 5000,
): Promise<number> {
  const r = await reg.claim(key, who, leaseMs);
  assert.ok(r.ok, `claim of ${key} by ${who.instanceId} refused`);
  return r.epoch;
}

export interface RegistryCase {
  name: string;
  run(reg: StreamRegistry): Promise<void>;
}

export const registryCases: RegistryCase[] = [
  {
    name: 'claim a free key, conflict reports the owner, lookup agrees',
    async run(reg) {
      const t0 = Date.now();
      const epoch = await mustClaim(reg, 'live/test', A, 5000);
      assert.ok(epoch >= t0 * 1000, 'epochs start at the store clock in µs');
      const r = await reg.claim('live/test', B, 5000);
      assert.equal(r.ok, false);
      const owner = r.ok ? null : r.owner;
      assert.ok(owner);
      assert.equal(owner.key, 'live/test');
      assert.equal(owner.nodeId, 'A');
      assert.equal(owner.instanceId, A.instanceId);
      assert.equal(owner.epoch, epoch);
      assert.ok(owner.since >= t0 - 1000 && owner.since <= Date.now() + 1000, 'since, by the store clock');
      assert.ok(owner.ttlMs > 4000 && owner.ttlMs <= 5000, `ttl ${owner.ttlMs}`);
      assert.equal(owner.relayAddr, '');
      assert.deepEqual(owner.media, {});
      const { ttlMs: _a, ...same } = owner;
      const { ttlMs: _b, ...looked } = (await reg.lookup('live/test'))!;
      assert.deepEqual(looked, same);
      assert.equal(await reg.lookup('live/other'), null);
    },
  },
  {
    name: 'concurrent claims of one key: exactly one wins',
    async run(reg) {
      const rs = await Promise.all(
        Array.from({ length: 20 }, (_, i) => reg.claim('live/race', h(`N${i}`), 5000)),
      );
      const winners = rs.flatMap((r, i) => (r.ok ? [`N${i}`] : []));
      assert.equal(winners.length, 1);
      for (const r of rs) if (!r.ok) assert.equal(r.owner?.nodeId, winners[0]);
    },
  },
  {
    name: 're-claim by the owner is a republish with a new epoch; the old epoch is dead',
    async run(reg) {
      const e1 = await mustClaim(reg, 'live/re', A);
      await reg.setMediaInfo('live/re', A, e1, { videoCodec: 'avc1' });
      const e2 = await mustClaim(reg, 'live/re', A);
      assert.ok(e2 > e1);
      const o = await reg.lookup('live/re');
      assert.equal(o?.epoch, e2);
      assert.deepEqual(o?.media, {}, 'a republish starts without media info');
      assert.equal(await reg.refresh('live/re', A, e1, 5000), false);
      assert.equal(await reg.release('live/re', A, e1), false);
      assert.equal((await reg.lookup('live/re'))?.epoch, e2);
    },
  },
  {
    name: 'epochs strictly increase across claim, release, claim (any node)',
    async run(reg) {
      const seen: number[] = [];
      for (const node of [A, B, A, h('C')]) {
        const e = await mustClaim(reg, 'live/ep', node);
        seen.push(e);
        assert.equal(await reg.release('live/ep', node, e), true);
      }
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `epochs ${seen.join(',')}`);
    },
  },
  {
    name: 'an expired lease can be claimed by another node with a higher epoch; the old owner is fenced',
    async run(reg) {
      const eA = await mustClaim(reg, 'live/exp', A, 300);
      await sleep(400);
      assert.equal(await reg.lookup('live/exp'), null);
      const eB = await mustClaim(reg, 'live/exp', B, 5000);
      assert.ok(eB > eA);
      assert.equal(await reg.refresh('live/exp', A, eA, 5000), false);
      assert.equal(await reg.release('live/exp', A, eA), false);
      await reg.setMediaInfo('live/exp', A, eA, { videoCodec: 'stale' });
      const o = await reg.lookup('live/exp');
      assert.equal(o?.nodeId, 'B');
      assert.equal(o?.epoch, eB);
      assert.deepEqual(o?.media, {});
    },
  },
  {
    name: 'epochs increase across expiry for the same node too',
    async run(reg) {
      const e1 = await mustClaim(reg, 'live/exp2', A, 200);
      await sleep(300);
      assert.ok((await mustClaim(reg, 'live/exp2', A, 200)) > e1);
    },
  },
  {
    name: 'refresh extends the lease past the original one; wrong epoch or node fails',
    async run(reg) {
      const e = await mustClaim(reg, 'live/ref', A, 300);
      await sleep(150);
      assert.equal(await reg.refresh('live/ref', A, e, 600), true);
      assert.equal(await reg.refresh('live/ref', A, e + 1, 600), false);
      assert.equal(await reg.refresh('live/ref', B, e, 600), false);
      await sleep(300); // 450 ms after the claim: past the original 300 ms lease
      const o = await reg.lookup('live/ref');
      assert.equal(o?.nodeId, 'A');
      assert.ok(o.ttlMs > 0);
      assert.equal((await reg.claim('live/ref', B, 600)).ok, false);
      assert.equal((await reg.listStreams()).length, 1);
      await sleep(500);
      assert.equal(await reg.lookup('live/ref'), null);
      assert.equal(await reg.refresh('live/ref', A, e, 600), false, 'no refresh after expiry');
    },
  },
  {
    name: 'release only by the owner (node and epoch); then the key is free',
    async run(reg) {
      const e = await mustClaim(reg, 'live/rel', A);
      assert.equal(await reg.release('live/rel', B, e), false);
      assert.equal(await reg.release('live/rel', A, e + 1), false);
      assert.equal((await reg.listStreams()).length, 1, 'a failed release leaves the index alone');
      assert.equal(await reg.release('live/rel', A, e), true);
      assert.equal(await reg.release('live/rel', A, e), false);
      assert.equal(await reg.lookup('live/rel'), null);
      assert.equal(await reg.refresh('live/rel', A, e, 5000), false);
      assert.ok((await mustClaim(reg, 'live/rel', B)) > e);
    },
  },
  {
    name: 'setMediaInfo by the owner shows in lookup and listStreams; others are ignored',
    async run(reg) {
      const e = await mustClaim(reg, 'live/media', A);
      const media = { videoCodec: 'avc1.64001f', audioCodec: 'mp4a.40.2', width: 1280, height: 720 };
      await reg.setMediaInfo('live/media', A, e, media);
      await reg.setMediaInfo('live/media', B, e, { videoCodec: 'hvc1' });
      await reg.setMediaInfo('live/media', A, e - 1, { videoCodec: 'hvc1' });
      await reg.setMediaInfo('live/none', A, e, { videoCodec: 'hvc1' });
      assert.deepEqual((await reg.lookup('live/media'))?.media, media);
      const list = await reg.listStreams();
      assert.deepEqual(
        list.map((o) => [o.key, o.media]),
        [['live/media', media]],
      );
      assert.equal(await reg.lookup('live/none'), null);
    },
  },
  {
    name: 'listStreams returns live claims only: released and expired are gone',
    async run(reg) {
      const keys = ['live/a', 'app/sub/b.c_d-e~f', 'live/short', 'live/gone'];
      const e: number[] = [];
      for (const k of keys) e.push(await mustClaim(reg, k, A, k === 'live/short' ? 250 : 5000));
      assert.deepEqual((await reg.listStreams()).map((o) => o.key).sort(), [...keys].sort());
      await reg.release('live/gone', A, e[3]!);
      await sleep(350);
      const list = await reg.listStreams();
      assert.deepEqual(list.map((o) => o.key).sort(), ['app/sub/b.c_d-e~f', 'live/a']);
      for (const o of list) assert.equal(o.nodeId, 'A');
      // A republish leaves no duplicate, and the epochs listing names the new epoch.
      const again = await mustClaim(reg, 'live/a', A);
      assert.equal((await reg.listStreams()).length, 2);
      const epochs = await reg.listStreamEpochs();
      assert.deepEqual([...epochs.keys()].sort(), ['app/sub/b.c_d-e~f', 'live/a']);
      assert.equal(epochs.get('live/a'), again);
      assert.equal(epochs.get('app/sub/b.c_d-e~f'), e[1]);
    },
  },
  {
    name: 'nodes: register, replace, get, list, unregister, TTL expiry',
    async run(reg) {
      assert.deepEqual(await reg.registerNode(nodeInfo('A'), 300), { previousInstanceId: null });
      await reg.registerNode(nodeInfo('B'), 5000);
      assert.deepEqual(await reg.getNode('A'), nodeInfo('A'));
      assert.deepEqual(await reg.registerNode(nodeInfo('B', 7), 5000), { previousInstanceId: null });
      assert.deepEqual(await reg.getNode('B'), nodeInfo('B', 7));
      const ids = (await reg.listNodes()).map((n) => n.nodeId).sort();
      assert.deepEqual(ids, ['A', 'B']);
      assert.deepEqual((await reg.listNodeIds()).sort(), ['A', 'B']);
      await reg.registerNode(nodeInfo('C'), 5000);
      await reg.unregisterNode(h('C'));
      assert.equal(await reg.getNode('C'), null);
      await sleep(400);
      assert.equal(await reg.getNode('A'), null);
      assert.deepEqual(await reg.listNodes(), [nodeInfo('B', 7)]);
      await reg.unregisterNode(B);
      assert.deepEqual(await reg.listNodes(), []);
      assert.equal(await reg.getNode('nobody'), null);
    },
  },
  {
    name: 'bad keys, node ids and leases are rejected',
    async run(reg) {
      for (const key of ['', 'live/{x}', 'live/a b', 'live/ü', 'nokey', 'live/..', 'live//x']) {
        await assert.rejects(reg.claim(key, A, 1000), /invalid stream key/);
      }
      await assert.rejects(
        reg.claim('live/a', { nodeId: 'A{', instanceId: 'abcdefgh' }, 1000),
        /invalid node id/,
      );
      await assert.rejects(
        reg.claim('live/a', { nodeId: 'A', instanceId: 'short' }, 1000),
        /invalid instance id/,
      );
      await assert.rejects(reg.claim('live/a', A, 0), /leaseMs/);
      await assert.rejects(reg.claim('live/a', A, 1.5), /leaseMs/);
      await assert.rejects(reg.registerNode(nodeInfo('A'), -1), /ttlMs/);
    },
  },
  {
    name: 'claims belong to one process: another process with the same node id is refused and cannot refresh or release',
    async run(reg) {
      const a2 = h('A', 2);
      const e = await mustClaim(reg, 'live/dup', A);
      const r = await reg.claim('live/dup', a2, 5000);
      assert.equal(r.ok, false, 'a second process named A must not take the key');
      assert.equal(r.ok ? '' : r.owner?.instanceId, A.instanceId);
      assert.equal(await reg.refresh('live/dup', a2, e, 5000), false);
      assert.equal(await reg.release('live/dup', a2, e), false);
      assert.equal(await reg.releaseAny('live/dup', a2), false);
      await reg.setMediaInfo('live/dup', a2, e, { videoCodec: 'forged' });
      const o = await reg.lookup('live/dup');
      assert.deepEqual([o?.instanceId, o?.epoch, o?.media], [A.instanceId, e, {}]);
      assert.equal(await reg.refresh('live/dup', A, e, 5000), true);
    },
  },
  {
    name: 'takeover: only over the exact epoch of the current claim; the old holder is fenced',
    async run(reg) {
      const e1 = await mustClaim(reg, 'live/take', A, 10_000);
      const wrong = await reg.claim('live/take', B, 5000, { takeoverEpoch: e1 - 1 });
      assert.equal(wrong.ok, false, 'a takeover naming another epoch is a plain, refused claim');
      const r = await reg.claim('live/take', B, 5000, { takeoverEpoch: e1, relayAddr: '10.0.0.2:1935' });
      assert.ok(r.ok);
      assert.ok(r.epoch > e1);
      const o = await reg.lookup('live/take');
      assert.deepEqual([o?.nodeId, o?.epoch, o?.relayAddr], ['B', r.epoch, '10.0.0.2:1935']);
      assert.equal(await reg.refresh('live/take', A, e1, 5000), false, 'the old holder cannot refresh');
      // A second taker that saw the old epoch loses: the claim has moved on.
      const late = await reg.claim('live/take', h('C'), 5000, { takeoverEpoch: e1 });
      assert.equal(late.ok, false);
      assert.equal(late.ok ? '' : late.owner?.nodeId, 'B');
    },
  },
  {
    name: "releaseAny drops a claim of this process whatever its epoch, never another process's",
    async run(reg) {
      await mustClaim(reg, 'live/orphan', A);
      assert.equal(await reg.releaseAny('live/orphan', B), false);
      assert.equal(await reg.releaseAny('live/orphan', A), true);
      assert.equal(await reg.lookup('live/orphan'), null);
      assert.equal(await reg.releaseAny('live/orphan', A), false);
    },
  },
  {
    name: 'node records: another process under the same node id is reported; unregister spares it',
    async run(reg) {
      await reg.registerNode(nodeInfo('A', 0, 1), 5000);
      assert.deepEqual(await reg.registerNode(nodeInfo('A', 0, 1), 5000), { previousInstanceId: null });
      assert.deepEqual(await reg.registerNode(nodeInfo('A', 0, 2), 5000), {
        previousInstanceId: h('A', 1).instanceId,
      });
      await reg.unregisterNode(h('A', 1));
      assert.equal(
        (await reg.getNode('A'))?.instanceId,
        h('A', 2).instanceId,
        'the other process keeps its record',
      );
      await reg.unregisterNode(h('A', 2));
      assert.equal(await reg.getNode('A'), null);
    },
  },
  {
    name: 'presence: full write, changes, touch, expiry; a change to a missing or foreign record is refused',
    async run(reg) {
      const info = (viewers: number, relaying = true) => ({ viewers, relaying, publishing: false });
      assert.equal(await reg.getPresence('A'), null);
      await assert.rejects(reg.writePresence(A, 1, { 'live/a': info(1) }, false, 5000), /in full/);
      await reg.writePresence(A, 1, { 'live/a': info(1), 'live/b': info(2) }, true, 5000);
      await reg.writePresence(
        A,
        2,
        { 'live/a': info(5), 'live/b': null, 'live/c': info(0, false) },
        false,
        300,
      );
      assert.deepEqual(await reg.getPresence('A'), {
        nodeId: 'A',
        instanceId: A.instanceId,
        seq: 2,
        streams: { 'live/a': info(5), 'live/c': info(0, false) },
      });
      // Another process with the same node id: its changes alone are refused, a full write replaces.
      const a2 = h('A', 2);
      await assert.rejects(reg.writePresence(a2, 1, { 'live/x': info(1) }, false, 5000), /in full/);
      assert.equal(await reg.touchPresence(a2, 5000), false);
      await sleep(150);
      assert.equal(await reg.touchPresence(A, 300), true);
      await sleep(200);
      assert.equal((await reg.getPresence('A'))?.seq, 2, 'touch kept it alive past its first TTL');
      await sleep(250);
      assert.equal(await reg.getPresence('A'), null, 'expired');
      assert.equal(await reg.touchPresence(A, 300), false);
      await reg.writePresence(a2, 7, {}, true, 5000);
      assert.deepEqual(await reg.getPresence('A'), {
        nodeId: 'A',
        instanceId: a2.instanceId,
        seq: 7,
        streams: {},
      });
      await assert.rejects(reg.writePresence(A, 3, { 'bad key': info(1) }, true, 5000), /invalid stream key/);
    },
  },
];

/** One `describe` with every case, each on a fresh registry from `make` (closed afterwards). */
export function describeRegistrySemantics(name: string, make: () => StreamRegistry): void {
  describe(`StreamRegistry semantics: ${name}`, () => {
    for (const c of registryCases) {
      it(c.name, { timeout: 10_000 }, async () => {
        const reg = make();
        try {
          await c.run(reg);
        } finally {
          await reg.close();
        }
      });
    }
  });
}
