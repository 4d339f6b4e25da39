import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject } from '../../../libs/cluster/types.ts';
import type { RouteAnswer } from '../../../services/scheduler/scheduler.ts';
import { HEARTBEAT_MS, harness, heartbeat, node, NOW, proc, register } from './fixtures.ts';

// The periodic read of the whole cluster from Redis: bootstrap, drift, lapsed nodes, the
// scheduler without NATS, and Redis going away under it.

const e1 = node({ id: 'e1', relaying: { 'live/a': 2 } });
const e2 = node({ id: 'e2' });
const o1 = node({ id: 'o1', role: 'origin', publishing: { 'live/a': 1 } });

const routed = (a: { status: number; body: unknown }): string =>
  a.status === 200 ? (a.body as RouteAnswer).edge.nodeId : `${a.status}`;

test('bootstrap: nodes, presence and owners from Redis; ready only after it', async () => {
  const h = harness();
  for (const n of [e1, e2, o1]) await register(h.reg, n);
  const claim = await h.reg.claim('live/a', proc('o1'), 10_000);
  assert.ok(claim.ok);
  assert.equal(h.core.status().ready, false);
  h.core.start();
  await h.settle();
  assert.equal(h.core.status().ready, true);
  assert.deepEqual(h.core.status().body.nodes, 3);
  assert.equal(h.core.view.owner('live/a')?.epoch, claim.epoch);
  // Just started: nodes listed by Redis count as alive until heartbeats have had time to arrive.
  assert.equal(routed(h.core.scheduler.route('live/a', 'flv')), 'e1');
  h.clock.t = 2 * HEARTBEAT_MS + 1;
  assert.equal(routed(h.core.scheduler.route('live/a', 'flv')), '503', 'no heartbeat since');
  h.core.stop();
});

test('a node whose record lapsed is dropped by the next reconcile; drift in presence and owners is fixed', async () => {
  const h = harness();
  await register(h.reg, e1, 5_000);
  await register(h.reg, e2, 60_000);
  h.core.start();
  await h.settle();
  assert.ok(h.core.view.node('e1'));
  // Changes nobody announced (events lost): a new owner, e2 relaying live/b.
  const claim = await h.reg.claim('live/b', proc('o1'), 60_000);
  assert.ok(claim.ok);
  await h.reg.writePresence(
    proc('e2'),
    7,
    { 'live/b': { viewers: 1, relaying: true, publishing: false } },
    true,
    60_000,
  );
  h.regClock.t += 6_000; // e1's record lapses (by the registry's clock)
  // A light run (events flowing) sees the lapse and the claim from the indexes alone...
  await h.core.reconciler.runOnce();
  assert.equal(h.core.view.node('e1'), undefined);
  assert.equal(h.core.view.owner('live/b')?.epoch, claim.epoch);
  assert.equal(h.core.view.node('e2')!.presence.seq < 7, true, 'presence is left to its numbered events');
  // ...a full one (asked for, or every few runs) also reloads every node's presence.
  h.core.reconciler.runSoon();
  await h.settle();
  assert.equal(h.core.view.relayingEdges('live/a'), undefined, 'its presence went with it');
  assert.equal(h.core.view.owner('live/b')?.epoch, claim.epoch);
  assert.deepEqual(
    [...h.core.view.relayingEdges('live/b')!].map((e) => e.nodeId),
    ['e2'],
  );
  assert.equal(h.core.view.node('e2')!.presence.seq, 7);
  // Released without an event: gone at the next reconcile.
  assert.ok(await h.reg.release('live/b', proc('o1'), claim.epoch));
  await h.core.reconciler.runOnce();
  assert.equal(h.core.view.owner('live/b'), undefined);
  h.core.stop();
});

test('a reconcile is the truth even for a lower epoch (Redis lost writes); a later confirmed change survives an earlier read', () => {
  const h = harness();
  const view = h.core.view;
  const owner = (nodeId: string, epoch: number, key = 'live/r') => ({
    key,
    nodeId,
    instanceId: `${nodeId}-instance`,
    epoch,
    since: NOW,
    ttlMs: 10_000,
    relayAddr: '',
    media: {},
  });
  view.confirmOwner('live/r', owner('o1', 9), view.nextStamp(), 0);
  view.applyOwners([owner('o2', 1)], view.nextStamp(), 0);
  assert.equal(view.owner('live/r')?.nodeId, 'o2');
  // A reconcile read starts, then an event-confirmed owner for live/s and a removal of live/r land before it applies.
  const readStart = view.nextStamp();
  view.confirmOwner('live/s', owner('o3', 4, 'live/s'), view.nextStamp(), 0);
  view.confirmOwner('live/r', null, view.nextStamp(), 0);
  view.applyOwners([owner('o2', 1)], readStart, 0);
  assert.equal(view.owner('live/s')?.nodeId, 'o3', 'not dropped by the older list');
  // live/r was removed by a newer read: the older list does not bring it back... until the next reconcile.
  assert.equal(view.owner('live/r')?.nodeId, 'o2');
});

test('without NATS: Redis is polled; nodes in the last reconcile are healthy, lapsed ones go', async () => {
  const h = harness({ withBus: false });
  await register(h.reg, e1, 5_000);
  await register(h.reg, e2, 60_000);
  h.core.start();
  await h.settle();
  assert.equal(h.core.status().body.events, 'off');
  h.clock.t = 60_000; // long past any heartbeat window: the reconcile decides
  assert.equal(routed(h.core.scheduler.route('live/a', 'flv')), 'e1');
  h.regClock.t += 6_000;
  await h.core.reconciler.runOnce();
  assert.notEqual(routed(h.core.scheduler.route('live/a', 'flv')), 'e1');
  assert.equal(routed(h.core.scheduler.route('live/a', 'flv')), 'e2');
  h.core.stop();
});

test('NATS back after an outage: nodes listed by Redis stay routable until heartbeats have had time to arrive', async () => {
  const h = harness();
  await register(h.reg, e1);
  h.core.start();
  await h.settle();
  h.clock.t = 10_000;
  h.send(Subject.NodeHeartbeat, heartbeat(e1, 1));
  await h.settle();
  // NATS down (the feed notices within 250 ms; told here at once): heartbeats stop, the reconcile stands in.
  h.busUp.v = false;
  h.core.view.setEventsFlowing(false);
  h.clock.t = 60_000;
  await h.core.reconciler.runOnce();
  assert.equal(routed(h.core.scheduler.route('live/a', 'flv')), 'e1');
  h.busUp.v = true; // back
  h.core.view.setEventsFlowing(true);
  h.clock.t += 2 * HEARTBEAT_MS - 1;
  assert.equal(routed(h.core.scheduler.route('live/a', 'flv')), 'e1');
  h.clock.t += 2;
  assert.equal(routed(h.core.scheduler.route('live/a', 'flv')), '503', 'no heartbeat came');
  h.core.stop();
});

test('Redis down: not ready and stale, routing answers from the view; lookups of unknown keys fail', async () => {
  const h = harness();
  await register(h.reg, e1);
  await register(h.reg, o1);
  const claim = await h.reg.claim('live/a', proc('o1'), 60_000);
  assert.ok(claim.ok);
  h.core.start();
  await h.settle();
  h.reg.down = true;
  await h.core.reconciler.runOnce();
  const st = h.core.status();
  assert.equal(st.ready, false);
  assert.equal(st.body.status, 'registry unavailable');
  assert.equal(st.body.stale, true);
  assert.equal(h.core.gauges().scheduler_view_stale, 1);
  assert.equal(routed(h.core.scheduler.route('live/a', 'flv')), 'e1');
  assert.equal((await h.core.scheduler.stream('live/a')).status, 200);
  await assert.rejects(h.core.scheduler.stream('live/unknown'));
  h.reg.down = false;
  await h.core.reconciler.runOnce();
  assert.equal(h.core.status().ready, true);
  assert.equal(h.core.gauges().scheduler_view_stale, 0);
  h.core.stop();
});

test('memory is bounded: nodes, streams and presence over the limits are counted, not kept', async () => {
  const h = harness({ cfg: { view: { maxNodes: 2, maxStreams: 2, maxStreamsPerNode: 2, maxSessions: 2 } } });
  await register(h.reg, node({ id: 'e1', relaying: { 'live/1': 1, 'live/2': 1, 'live/3': 1 } }));
  await register(h.reg, node({ id: 'e2' }));
  await register(h.reg, node({ id: 'e3' }));
  for (const k of ['live/1', 'live/2', 'live/3']) assert.ok((await h.reg.claim(k, proc('o1'), 60_000)).ok);
  h.core.start();
  await h.settle();
  assert.equal(h.core.view.nodeCount, 2);
  assert.equal(h.core.view.streamCount, 2);
  assert.equal(h.core.view.node('e1')!.presence.streams.size, 2);
  for (const what of ['nodes', 'streams', 'presence']) {
    assert.ok(h.counters.get('scheduler_view_over_limit', { what }) > 0, what);
  }
  h.core.stop();
});

test('Redis down at start: not ready; bootstrapped within a second of Redis answering', async () => {
  const h = harness();
  await register(h.reg, e1);
  h.reg.down = true;
  h.core.start();
  await h.settle();
  assert.deepEqual([h.core.status().ready, h.core.status().body.status], [false, 'starting']);
  h.reg.down = false;
  await new Promise((r) => setTimeout(r, 1200)); // the reconcile interval here is a minute
  assert.equal(h.core.status().ready, true);
  assert.equal(h.core.view.nodeCount, 1);
  h.core.stop();
});

test('a light run (events flowing) reads the indexes and only the claims and nodes that differ', async () => {
  const h = harness();
  await register(h.reg, e1, 60_000);
  for (let i = 0; i < 200; i++) assert.ok((await h.reg.claim(`live/k${i}`, proc('o1'), 60_000)).ok);
  h.core.start();
  // The bootstrap is a full run, paced: a few slices with short pauses between them.
  for (let i = 0; i < 100 && !h.core.reconciler.bootstrapped; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(h.core.view.streamCount, 200);
  const calls: Record<string, number> = {};
  for (const m of ['lookup', 'listStreams', 'listNodes', 'getNode', 'getPresence'] as const) {
    const orig = h.reg[m].bind(h.reg) as (...a: unknown[]) => Promise<unknown>;
    (h.reg as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
      calls[m] = (calls[m] ?? 0) + 1;
      return orig(...a);
    };
  }
  await h.core.reconciler.runOnce();
  assert.deepEqual(calls, {}, 'nothing changed: nothing read but the indexes');
  // One claim changed without an event: exactly that key is read.
  const again = await h.reg.claim('live/k7', proc('o1'), 60_000);
  assert.ok(again.ok);
  await h.core.reconciler.runOnce();
  assert.deepEqual(calls, { lookup: 1 });
  assert.equal(h.core.view.owner('live/k7')?.epoch, again.epoch);
  h.core.stop();
});
