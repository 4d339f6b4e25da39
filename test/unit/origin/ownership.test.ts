import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../../libs/cluster/memory-bus.ts';
import { MemoryRegistry } from '../../../libs/cluster/memory-registry.ts';
import { Subject, type Holder, type StreamRegistry } from '../../../libs/cluster/types.ts';
import { silentLogger } from '../../../libs/log/logger.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import { Ownership, type OwnershipPolicy } from '../../../services/origin/ownership.ts';
import { faultyRegistry } from './faulty-registry.ts';

// An origin's claims against the in-memory registry (the same semantics as Redis, see
// test/integration/registry.test.ts) with network faults injected per call, and a monotonic
// clock the test moves: lost replies, refused calls, pauses, shutdown.

const ME: Holder = { nodeId: 'origin-1', instanceId: 'origin-1-instance' };
const POLICY: OwnershipPolicy = {
  leaseMs: 1000,
  refreshMs: 50,
  outageGraceMs: 3000,
  acceptWhileRegistryDown: false,
  fastTakeover: false,
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function setup(
  registry: StreamRegistry,
  policy: Partial<OwnershipPolicy> = {},
): {
  own: Ownership;
  clock: { t: number };
  counters: Counters;
  kicked: string[];
  ended: string[];
  published: number[];
  publish: (key: string) => ReturnType<Ownership['authorize']>;
} {
  const clock = { t: 0 };
  const counters = new Counters();
  const kicked: string[] = [];
  const ended: string[] = [];
  const published: number[] = [];
  const bus = new MemoryBus();
  bus.subscribe(Subject.StreamPublished, (e) => published.push(e.epoch));
  const own = new Ownership({
    ...POLICY,
    ...policy,
    holder: ME,
    registry,
    bus,
    log: silentLogger(),
    counters,
    endRelays: (key) => ended.push(key),
    now: () => clock.t,
  });
  const publish = (key: string): ReturnType<Ownership['authorize']> =>
    own.authorize({ key, query: {}, sessionId: `s-${key}`, remote: '', protocol: 'rtmp' }, () => kicked.push(key));
  return { own, clock, counters, kicked, ended, published, publish };
}

test('refused before it was sent (registry down): no orphan is kept for it', async () => {
  const f = faultyRegistry();
  const { own, counters, publish } = setup(f.registry);
  f.fault.mode = 'down';
  for (let i = 0; i < 50; i++) assert.equal((await publish(`live/k${i}`)).ok, false);
  assert.equal(own.orphanCount, 0);
  assert.equal(counters.get('claims_refused_registry_down'), 50);
  await own.releaseAll();
});

test('orphans from lost claim replies are released in bounded batches without starving refreshes', async () => {
  const f = faultyRegistry();
  const { own, clock, kicked, publish } = setup(f.registry);
  const real = await publish('live/real');
  assert.ok(real.ok);
  // 1000 claims that ran but whose replies were lost: each leaves a claim nobody here tracks.
  f.fault.mode = 'lost';
  f.fault.only = 'claim';
  for (let i = 0; i < 1000; i++) await publish(`live/junk${i}`);
  assert.equal((await f.inner.listStreams()).length, 1001);
  assert.equal(own.orphanCount, 1000);
  f.fault.mode = 'ok';
  f.fault.delayMs = 5; // each call takes a while
  for (let i = 0; i < 40 && own.orphanCount > 0; i++) {
    clock.t += 50;
    await sleep(60);
  }
  assert.equal(own.orphanCount, 0, 'every orphan released');
  assert.deepEqual(
    (await f.inner.listStreams()).map((o) => o.key),
    ['live/real'],
    'only the tracked claim is left',
  );
  assert.deepEqual(kicked, [], 'the real stream was refreshed all along, never fenced');
  assert.equal(own.servesRelay('live/real', own.epochOf('live/real')).ok, true);
  await own.releaseAll();
});

test('a deferred publish whose re-claim ran but lost its reply leaves nothing behind when it ends', async () => {
  const f = faultyRegistry();
  const { own, clock, publish } = setup(f.registry, { acceptWhileRegistryDown: true });
  f.fault.mode = 'down';
  const d = await publish('live/deferred');
  assert.ok(d.ok);
  assert.equal(own.epochOf('live/deferred'), 0);
  // Back, but the re-claim's reply is lost: Redis holds a claim of ours the origin does not know.
  f.fault.mode = 'lost';
  f.fault.only = 'claim';
  clock.t += 60;
  await sleep(80);
  assert.equal((await f.inner.lookup('live/deferred'))?.instanceId, ME.instanceId);
  f.fault.mode = 'ok';
  d.onEnd?.(); // the publisher leaves before a refresh adopted it
  for (let i = 0; i < 10 && (await f.inner.lookup('live/deferred')) !== null; i++) await sleep(60);
  assert.equal(await f.inner.lookup('live/deferred'), null, 'the untracked claim was released');
  await own.releaseAll();
});

test('a claim of ours under a higher epoch (a lost reply that ran) is adopted, refreshed and announced', async () => {
  const reg = new MemoryRegistry();
  const { own, published, publish } = setup(reg);
  assert.ok((await publish('live/adopt')).ok);
  const e1 = own.epochOf('live/adopt');
  const again = await reg.claim('live/adopt', ME, 1000); // as if a re-claim's reply had been lost
  assert.ok(again.ok && again.epoch > e1);
  await sleep(150);
  assert.equal(own.epochOf('live/adopt'), again.ok ? again.epoch : 0);
  assert.deepEqual(published.slice(-1), [own.epochOf('live/adopt')], 'the adopted epoch announced');
  assert.equal(own.servesRelay('live/adopt', e1).ok, false, 'the old epoch no longer served');
  await own.releaseAll();
});

test('unconfirmed past the grace: fenced (publisher kicked, relays ended); Infinity never fences', async () => {
  const f = faultyRegistry();
  const { own, clock, counters, kicked, ended, publish } = setup(f.registry);
  assert.ok((await publish('live/fence')).ok);
  f.fault.mode = 'down';
  clock.t += POLICY.leaseMs + 1;
  await sleep(250);
  assert.match(
    String((own.servesRelay('live/fence', own.epochOf('live/fence')) as { why?: string }).why),
    /unconfirmed/,
  );
  assert.deepEqual(kicked, [], 'within the grace: still serving the publisher');
  clock.t += POLICY.outageGraceMs;
  await sleep(250);
  assert.deepEqual(kicked, ['live/fence']);
  assert.deepEqual(ended, ['live/fence']);
  assert.equal(counters.get('ownership_fenced', { reason: 'unconfirmed' }), 1);
  await own.releaseAll();

  // Standalone: the registry is in memory, a paused process resumes with its publishers.
  const s = setup(faultyRegistry().registry, { outageGraceMs: Number.POSITIVE_INFINITY });
  assert.ok((await s.publish('live/standalone')).ok);
  s.clock.t += 3_600_000;
  await sleep(250);
  assert.deepEqual(s.kicked, []);
  await s.own.releaseAll();
});

test('after releaseAll (shutdown) a new publish is refused and leaves no claim', async () => {
  const reg = new MemoryRegistry();
  const { own, publish } = setup(reg);
  assert.ok((await publish('live/a')).ok);
  await own.releaseAll();
  const late = await publish('live/late');
  assert.equal(late.ok, false);
  assert.deepEqual(await reg.listStreams(), []);
});
