import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject } from '../../../libs/cluster/types.ts';
import type { RouteAnswer } from '../../../services/scheduler/scheduler.ts';
import { HEARTBEAT_MS, harness, heartbeat, node, NOW, proc, register, type Harness } from './fixtures.ts';

// Events applied to the view: liveness by receive time, heartbeats and presence only from the
// process Redis holds, numbered presence with gap reloads, stream events confirmed in Redis.

const e1 = node({ id: 'e1', relaying: { 'live/a': 2 } });
const e2 = node({ id: 'e2' });
const o1 = node({ id: 'o1', role: 'origin', publishing: { 'live/a': 1 } });

/** e1, e2 and o1 registered, bootstrapped, then enough time for heartbeats alone to decide liveness. */
async function started(): Promise<Harness> {
  const h = harness();
  for (const n of [e1, e2, o1]) await register(h.reg, n);
  h.core.start();
  await h.settle();
  assert.ok(h.core.reconciler.bootstrapped);
  h.clock.t = 10 * HEARTBEAT_MS; // past the start-up fallback: only heartbeats count now
  return h;
}

const healthy = (h: Harness, id: string): boolean => h.core.view.healthy(h.core.view.node(id)!, h.clock.t);
const routeOf = (h: Harness, key: string, protocol = 'flv'): string =>
  (h.core.scheduler.route(key, protocol).body as RouteAnswer).edge?.nodeId ?? 'none';

test('liveness is the receive time on our clock: a heartbeat dated an hour ahead or a day behind counts the same', async () => {
  const h = await started();
  assert.equal(healthy(h, 'e1'), false, 'not heard since the start-up fallback ended');
  h.send(Subject.NodeHeartbeat, heartbeat(e1, 1, { ts: NOW + 3_600_000 }));
  await h.settle();
  assert.equal(healthy(h, 'e1'), true);
  h.clock.t += 2 * HEARTBEAT_MS;
  assert.equal(healthy(h, 'e1'), true, 'one heartbeat late is still healthy');
  h.clock.t += 1;
  assert.equal(healthy(h, 'e1'), false, 'its clock being ahead buys nothing');
  h.send(Subject.NodeHeartbeat, heartbeat(e1, 1, { ts: NOW - 86_400_000 }));
  await h.settle();
  assert.equal(healthy(h, 'e1'), true, 'its clock being behind costs nothing');
  h.core.stop();
});

test('a heartbeat from a process Redis does not hold is not applied', async () => {
  const h = await started();
  h.send(Subject.NodeHeartbeat, heartbeat(e1, 1, { instanceId: 'forged-instance-1' }));
  h.send(Subject.NodeHeartbeat, heartbeat(node({ id: 'ghost' }), 0));
  await new Promise((r) => setTimeout(r, 800)); // the record check retries for a while
  assert.equal(healthy(h, 'e1'), false);
  assert.equal(h.core.view.node('e1')!.info.instanceId, 'e1-instance');
  assert.equal(h.core.view.node('ghost'), undefined);
  assert.equal(h.counters.get('scheduler_nodes_unconfirmed'), 2);
  assert.equal(routeOf(h, 'live/a'), 'none');
  h.core.stop();
});

test('a heartbeat cannot move a node to another address; its record in Redis can', async () => {
  const h = await started();
  h.send(Subject.NodeHeartbeat, heartbeat(e2, 0, { public: { http: 'evil.example:80' } }));
  await h.settle();
  assert.equal(healthy(h, 'e2'), true, 'the process is the registered one: it is alive');
  assert.equal(h.core.view.node('e2')!.info.public.http, 'e2.example:8080');
  // The node really moved: its record says so, and the check the heartbeat triggered sees it.
  const moved = node({ id: 'e2', host: 'e2-new.example' });
  await register(h.reg, moved);
  h.send(Subject.NodeHeartbeat, heartbeat(moved, 1));
  await h.settle();
  assert.equal(h.core.view.node('e2')!.info.public.http, 'e2-new.example:8080');
  h.core.stop();
});

test('a new node enters once its record is in Redis, with its presence', async () => {
  const h = await started();
  const e3 = node({ id: 'e3', relaying: { 'live/z': 4 } });
  await register(h.reg, e3);
  h.send(Subject.NodeHeartbeat, heartbeat(e3, 1));
  await h.settle();
  assert.equal(healthy(h, 'e3'), true);
  assert.deepEqual(
    [...(h.core.view.relayingEdges('live/z') ?? [])].map((e) => e.nodeId),
    ['e3'],
  );
  assert.equal(routeOf(h, 'live/z'), 'e3');
  h.core.stop();
});

test('presence: numbered changes apply in order; old ones are ignored; a gap reloads from Redis', async () => {
  const h = await started();
  const p = proc('e1');
  const relaying = (key: string): string[] =>
    [...(h.core.view.relayingEdges(key) ?? [])].map((e) => e.nodeId).sort();
  assert.deepEqual(relaying('live/a'), ['e1']);
  h.presence(p, 2, { 'live/b': { viewers: 1, relaying: true, publishing: false } });
  await h.settle();
  assert.deepEqual(relaying('live/b'), ['e1']);
  // A replay of change 2 with other content: already applied, ignored.
  h.presence(p, 2, { 'live/b': null });
  await h.settle();
  assert.deepEqual(relaying('live/b'), ['e1']);
  assert.equal(h.counters.get('scheduler_presence_ignored', { why: 'old' }), 1);
  // Changes 3 and 4 are lost; 5 arrives. Redis has the truth (the agent wrote it there).
  await h.reg.writePresence(
    p,
    5,
    { 'live/b': null, 'live/d': { viewers: 9, relaying: true, publishing: false } },
    false,
    60_000,
  );
  h.presence(p, 5, { 'live/d': { viewers: 9, relaying: true, publishing: false } });
  await h.settle();
  assert.deepEqual(relaying('live/b'), []);
  assert.deepEqual(relaying('live/d'), ['e1']);
  assert.equal(h.core.view.node('e1')!.presence.seq, 5);
  assert.equal(h.counters.get('scheduler_presence_gaps'), 1);
  h.core.stop();
});

test('presence: a heartbeat whose presenceSeq is ahead reloads; changes held after a gap are replayed', async () => {
  const h = await started();
  const p = proc('e2');
  // The view is at change 1 (bootstrap). Change 3 arrives before change 2: held until a
  // reload from Redis (which has 2) fills the gap, then replayed.
  await h.reg.writePresence(
    p,
    2,
    { 'live/q': { viewers: 1, relaying: true, publishing: false } },
    false,
    60_000,
  );
  h.presence(p, 3, { 'live/r': { viewers: 1, relaying: true, publishing: false } });
  await h.settle();
  const keys = (): string[] => [...h.core.view.node('e2')!.presence.streams.keys()].sort();
  assert.deepEqual(keys(), ['live/q', 'live/r']);
  assert.equal(h.core.view.node('e2')!.presence.seq, 3);
  // The agent wrote change 3 to Redis too. Change 4 never arrives at all; the heartbeat says 4.
  await h.reg.writePresence(
    p,
    3,
    { 'live/r': { viewers: 1, relaying: true, publishing: false } },
    false,
    60_000,
  );
  await h.reg.writePresence(p, 4, { 'live/q': null }, false, 60_000);
  await new Promise((r) => setTimeout(r, 300)); // presence reloads of one node rest 250 ms
  h.send(Subject.NodeHeartbeat, heartbeat(e2, 4));
  await h.settle();
  assert.equal(h.core.view.node('e2')!.presence.seq, 4);
  assert.deepEqual(keys(), ['live/r']);
  h.core.stop();
});

test('presence: another process under the node id replaces the old one, its presence reloaded', async () => {
  const h = await started();
  const restarted = node({ id: 'e1', instanceId: 'e1-second', relaying: { 'live/x': 1 } });
  // Its first change is announced before its heartbeat: not applied (not the process in Redis yet).
  h.presence(proc('e1', 'e1-second'), 1, { 'live/x': { viewers: 1, relaying: true, publishing: false } });
  await h.settle();
  assert.equal(h.counters.get('scheduler_presence_ignored', { why: 'instance' }), 1);
  await register(h.reg, restarted);
  h.send(Subject.NodeHeartbeat, heartbeat(restarted, 1));
  await h.settle();
  const e = h.core.view.node('e1')!;
  assert.equal(e.info.instanceId, 'e1-second');
  assert.deepEqual([...e.presence.streams.keys()], ['live/x']);
  assert.equal(h.core.view.relayingEdges('live/a'), undefined, 'the old process relayed live/a');
  h.core.stop();
});

test('relay events mark relaying at once, only from the process in Redis', async () => {
  const h = await started();
  const base = { v: 1 as const, ts: NOW, key: 'live/n', fromNodeId: 'o1', epoch: 1 };
  h.send(Subject.RelayStarted, { ...base, nodeId: 'e2', instanceId: 'someone-else' });
  await h.settle();
  assert.equal(h.core.view.relayingEdges('live/n'), undefined);
  h.send(Subject.RelayStarted, { ...base, nodeId: 'e2', instanceId: 'e2-instance' });
  await h.settle();
  assert.deepEqual(
    [...h.core.view.relayingEdges('live/n')!].map((e) => e.nodeId),
    ['e2'],
  );
  h.send(Subject.RelayStopped, { ...base, nodeId: 'e2', instanceId: 'e2-instance', reason: 'idle' });
  await h.settle();
  assert.equal(h.core.view.relayingEdges('live/n'), undefined);
  h.core.stop();
});

test('stream events: confirmed in Redis before the view changes; forged and replayed ones change nothing', async () => {
  const h = await started();
  const view = h.core.view;
  const claim = await h.reg.claim('live/a', proc('o1'), 10_000);
  assert.ok(claim.ok);
  const published = { v: 1 as const, ts: NOW, key: 'live/a', sessionId: 's1' };
  // Forged: names another node and a higher epoch; Redis says o1 at claim.epoch.
  h.send(Subject.StreamPublished, { ...published, nodeId: 'o2', instanceId: 'o2-instance', epoch: 99 });
  await h.settle();
  assert.equal(view.owner('live/a')?.nodeId, 'o1', 'the view holds what Redis holds');
  assert.equal(view.owner('live/a')?.epoch, claim.epoch);
  // Replayed: not newer than the view: not even looked up.
  const lookups = h.counters.get('scheduler_events_ignored', {
    subject: Subject.StreamPublished,
    why: 'old-epoch',
  });
  h.send(Subject.StreamPublished, {
    ...published,
    nodeId: 'o1',
    instanceId: 'o1-instance',
    epoch: claim.epoch,
  });
  await h.settle();
  assert.equal(
    h.counters.get('scheduler_events_ignored', { subject: Subject.StreamPublished, why: 'old-epoch' }),
    lookups + 1,
  );
  // Forged unpublish: Redis still has the claim.
  const unpublished = {
    ...published,
    nodeId: 'o1',
    instanceId: 'o1-instance',
    epoch: claim.epoch,
    reason: 'x',
  };
  h.send(Subject.StreamUnpublished, unpublished);
  await h.settle();
  assert.equal(view.owner('live/a')?.epoch, claim.epoch);
  // The real thing: released, then announced.
  assert.ok(await h.reg.release('live/a', proc('o1'), claim.epoch));
  h.send(Subject.StreamUnpublished, unpublished);
  await h.settle();
  assert.equal(view.owner('live/a'), undefined);
  // A new claim (higher epoch) by another origin: followed.
  const again = await h.reg.claim('live/a', proc('o2'), 10_000);
  assert.ok(again.ok && again.epoch > claim.epoch);
  h.send(Subject.StreamPublished, {
    ...published,
    nodeId: 'o2',
    instanceId: 'o2-instance',
    epoch: again.epoch,
  });
  await h.settle();
  assert.equal(view.owner('live/a')?.nodeId, 'o2');
  h.core.stop();
});

test('ownership moves only to a higher epoch, and an older read never overrides a newer one', () => {
  const h = harness();
  const view = h.core.view;
  const owner = (nodeId: string, epoch: number) => ({
    key: 'live/e',
    nodeId,
    instanceId: `${nodeId}-instance`,
    epoch,
    since: NOW,
    ttlMs: 10_000,
    relayAddr: '',
    media: {},
  });
  const early = view.nextStamp();
  const late = view.nextStamp();
  view.confirmOwner('live/e', owner('o2', 5), late, 0);
  view.confirmOwner('live/e', owner('o1', 4), view.nextStamp(), 0);
  assert.equal(view.owner('live/e')?.nodeId, 'o2', 'lower epoch refused');
  view.confirmOwner('live/e', null, early, 0);
  assert.equal(view.owner('live/e')?.nodeId, 'o2', '"gone" from a read that began earlier: ignored');
  view.confirmOwner('live/e', owner('o3', 6), view.nextStamp(), 0);
  assert.equal(view.owner('live/e')?.nodeId, 'o3');
  view.confirmOwner('live/e', null, view.nextStamp(), 0);
  assert.equal(view.owner('live/e'), undefined);
});

test('a flood of forged events costs bounded reads', async () => {
  const h = await started();
  let lookups = 0;
  const real = h.reg.lookup.bind(h.reg);
  h.reg.lookup = (k: string) => {
    lookups++;
    return real(k);
  };
  // The same key again and again: coalesced while the read runs.
  for (let i = 0; i < 200; i++) {
    h.send(Subject.StreamPublished, {
      v: 1,
      ts: NOW,
      key: 'live/flood',
      sessionId: 's',
      nodeId: 'o1',
      instanceId: 'o1-instance',
      epoch: 1000 + i,
    });
  }
  await h.settle();
  assert.ok(lookups <= 2, `${lookups} lookups for one key`);
  assert.equal(h.core.view.owner('live/flood'), undefined);
  h.core.stop();
});
