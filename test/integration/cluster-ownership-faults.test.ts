import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { Subject } from '../../libs/cluster/types.ts';
import {
  assertEventsValid,
  logLines,
  publishTo,
  startCluster,
  TIMING,
  type Cluster,
} from './helpers/cluster.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv, publish } from './helpers/media.ts';
import { counter } from './helpers/net.ts';
import { sleep, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// Ownership under faults that break a lease compared by callers' clocks or keyed by node
// names (issue #6): an origin whose clock runs 11 s ahead, a second process started with the
// same node id, and publishes while Redis is unreachable. Real processes, a real Redis and
// NATS; the skewed clock is libfaketime's.

const SPEC = { durationS: 4, width: 320, height: 240, fps: 25, gop: 25 };
/** Debian's libfaketime (package faketime), multi-thread safe variant: Node has threads. */
const FAKETIME_LIB = readdirSync('/usr/lib')
  .map((arch) => `/usr/lib/${arch}/faketime/libfaketimeMT.so.1`)
  .find((p) => existsSync(p));

let cluster: Cluster;
let media: string;

before(async () => {
  [media, cluster] = await Promise.all([makeTestFlv(SPEC), startCluster({ origins: 1, edges: 1 })]);
});

after(async () => {
  await cluster?.stop();
});

/** Runs an ffmpeg publish and resolves with its exit code (a refused publish exits non-zero). */
async function refusedPublish(origin: SluiceProcess, key: string): Promise<string> {
  const dup = publish(media, `${origin.rtmp}/${key}`, { loop: true });
  cluster.track(dup);
  const code = await Promise.race([dup.exited, sleep(8000).then(() => 'still publishing' as const)]);
  if (code === 'still publishing') {
    await dup.kill();
    assert.fail(`the publish of ${key} was accepted`);
  }
  assert.notEqual(code, 0);
  return dup.stderr();
}

test('an origin whose clock runs 11 s ahead cannot take a live key, and keeps its own', async (t) => {
  const key = 'live/skew';
  const origin1 = cluster.origins[0]!;
  // libfaketime preloaded into the node itself (the `faketime` command would fork it as a
  // grandchild that outlives a kill of the wrapper).
  const skewed = await cluster.spawn('origin', 'origin-skewed', {
    env: { LD_PRELOAD: FAKETIME_LIB ?? assert.fail('libfaketime not installed'), FAKETIME: '+11s' },
  });
  const pub = await publishTo(origin1, media, key);
  cluster.track(pub);
  const owner = await waitFor(() => cluster.registry.lookup(key), 3000, 'the claim');
  // The skew is real: the skewed node's own timestamps run ~11 s ahead of ours.
  const hb = await cluster.events.waitFor(Subject.NodeHeartbeat, (e) => e.nodeId === 'origin-skewed', 5000);
  t.diagnostic(`origin-skewed's clock is ${hb.ts - Date.now()} ms ahead`);
  assert.ok(hb.ts - Date.now() > 9000, 'faketime shifted the node clock');

  // Its lease (3 s) is long over by the skewed clock; by Redis's clock it is live.
  const since = skewed.logs.length;
  await refusedPublish(skewed, key);
  // The refusal is logged before ffmpeg is told; its line may reach us after ffmpeg exited.
  const why = await waitFor(
    () => logLines(skewed, 'stream owned by another process', key, since)[0],
    2000,
    'the refusal logged',
  );
  assert.equal(why.owner, 'origin-1');
  await sleep(2 * TIMING.refreshMs);
  const still = await cluster.registry.lookup(key);
  assert.deepEqual([still?.nodeId, still?.epoch], ['origin-1', owner.epoch], 'origin-1 keeps the key');
  assert.equal(logLines(origin1, 'stream fenced: stopping the publish and relay pulls', key).length, 0);
  assert.equal(pub.proc.exitCode, null, 'origin-1 still has its publisher');

  // The skewed origin's own claim holds through its refreshes, and nobody takes it.
  const own = await publishTo(skewed, media, 'live/skewed-own');
  cluster.track(own);
  const mine = await waitFor(() => cluster.registry.lookup('live/skewed-own'), 3000, 'the skewed claim');
  await sleep(TIMING.leaseMs + TIMING.refreshMs);
  assert.equal((await cluster.registry.lookup('live/skewed-own'))?.epoch, mine.epoch, 'refreshed, not lost');
  await refusedPublish(origin1, 'live/skewed-own');
  await Promise.all([pub.kill(), own.kill()]);
});

test("two origins started with the same node id: the second one cannot take the first one's live key", async (t) => {
  const key = 'live/dup-id';
  const origin1 = cluster.origins[0]!;
  const twin = await cluster.spawn('origin', 'origin-1');
  const pub = await publishTo(origin1, media, key);
  cluster.track(pub);
  const owner = await waitFor(() => cluster.registry.lookup(key), 3000, 'the claim');
  const viewer = httpFlv(`${origin1.http}/${key}.flv`);
  await waitFor(() => viewer.videoFrames().length >= 25, 5000, 'a viewer of the first process');

  const since = twin.logs.length;
  await refusedPublish(twin, key);
  const refusal = await waitFor(
    () => logLines(twin, 'stream owned by another process', key, since)[0],
    2000,
    'the refusal logged',
  );
  assert.equal(refusal.owner, 'origin-1');
  assert.equal(refusal.ownerInstance, owner.instanceId);
  assert.notEqual(twin.logs.find((l) => typeof l.instance === 'string')?.instance, owner.instanceId);

  const frames = viewer.videoFrames().length;
  await sleep(2 * TIMING.refreshMs);
  const still = await cluster.registry.lookup(key);
  assert.deepEqual([still?.instanceId, still?.epoch], [owner.instanceId, owner.epoch], 'the first keeps it');
  assert.ok(viewer.videoFrames().length >= frames + 25, 'its viewer keeps playing');
  assert.equal(pub.proc.exitCode, null);
  // Both processes register under the one node id: each sees the other's record and says so.
  const conflicts = Math.max(
    await counter(origin1.api, 'sluice_node_id_conflicts_total'),
    await counter(twin.api, 'sluice_node_id_conflicts_total'),
  );
  t.diagnostic(`node id conflicts counted: ${conflicts}`);
  assert.ok(conflicts > 0, 'the duplicate node id is counted');
  assert.ok(
    [origin1, twin].some((n) =>
      n.logs.some((l) => String(l.msg).includes('two processes share this node id')),
    ),
    'and logged',
  );
  viewer.stop();
  await pub.kill();
  await twin.stop();
});

test('Redis unreachable: a new publish is refused by default, accepted with acceptWhileRegistryDown and claimed once Redis is back', async () => {
  const origin1 = cluster.origins[0]!;
  const lenient = await cluster.spawn('origin', 'origin-lenient', {
    config: { ownership: { acceptWhileRegistryDown: true } },
  });
  await cluster.redis.kill9();
  try {
    const since = origin1.logs.length;
    const stderr = await refusedPublish(origin1, 'live/no-registry');
    assert.match(stderr, /Publish|error|Error/);
    await waitFor(
      () =>
        logLines(
          origin1,
          'registry unreachable: publish refused (ownership.acceptWhileRegistryDown is off)',
          'live/no-registry',
          since,
        ).length === 1,
      2000,
      'the refusal logged',
    );
    assert.equal(await counter(origin1.api, 'sluice_claims_refused_registry_down_total'), 1);

    const pub = await publishTo(lenient, media, 'live/deferred');
    cluster.track(pub);
    assert.equal(await counter(lenient.api, 'sluice_claims_deferred_total'), 1);
    await cluster.redis.restart();
    const owner = await waitFor(
      () => cluster.registry.lookup('live/deferred').catch(() => null),
      8000,
      'the deferred claim made once Redis is back',
    );
    assert.equal(owner.nodeId, 'origin-lenient');
    assert.equal(pub.proc.exitCode, null, 'the deferred publisher was never cut');
    await pub.kill();
  } finally {
    if ((await cluster.registry.listNodes().catch(() => null)) === null) await cluster.redis.restart();
  }
});

test('every event on the wire kept the contract, none was dropped as invalid, every node was heard', () => {
  assertEventsValid(cluster);
});
