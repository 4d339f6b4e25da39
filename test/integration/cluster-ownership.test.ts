import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject } from '../../libs/cluster/types.ts';
import {
  logLines,
  publishTo,
  startCluster,
  TIMING,
  type Cluster,
  assertEventsValid,
} from './helpers/cluster.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { counter } from './helpers/net.ts';
import { sleep, waitFor } from './helpers/sluice.ts';

// Stream ownership across processes: edges refuse publishers, a second origin refuses a key
// another origin owns, a killed origin's claim runs out with its lease, a stopped one hands
// its claim back at once.

const SPEC = { durationS: 6, width: 640, height: 360, fps: 25, gop: 25 };

let cluster: Cluster;
let media: string;

before(async () => {
  [media, cluster] = await Promise.all([makeTestFlv(SPEC), startCluster({ origins: 2, edges: 1 })]);
});

after(async () => {
  await cluster?.stop();
});

/** ffmpeg's exit code, or a failure if it is still running after `ms`. */
async function exitWithin(c: Child, ms: number): Promise<number | null> {
  const t = sleep(ms).then(() => 'running' as const);
  const r = await Promise.race([c.exited, t]);
  if (r === 'running') {
    await c.kill();
    assert.fail(`ffmpeg still running after ${ms} ms`);
  }
  return r;
}

test('an edge refuses publishers and says to publish to an origin', async () => {
  const edge = cluster.edges[0]!;
  const since = edge.logs.length;
  const pub = publish(media, `${edge.rtmp}/live/nope`);
  cluster.track(pub);
  const code = await exitWithin(pub, 10_000);
  assert.notEqual(code, 0, 'ffmpeg fails');
  const refused = logLines(edge, 'publish refused', 'live/nope', since)[0];
  assert.ok(refused, 'the edge logs the refusal');
  assert.match(String(refused.why), /edge.*publish live\/nope to an origin/);
  assert.equal(await counter(edge.api, 'sluice_publish_started_total'), 0);
});

test('a duplicate publish on origin-2 is refused while origin-1 owns the key; origin-1 is unaffected', async () => {
  const key = 'live/dup';
  const [origin1, origin2] = [cluster.origins[0]!, cluster.origins[1]!];
  const pub = await publishTo(origin1, media, key);
  cluster.track(pub);
  const owner = await waitFor(() => cluster.registry.lookup(key), 3000, 'the claim');
  assert.equal(owner.nodeId, 'origin-1');
  const viewer = httpFlv(`${origin1.http}/${key}.flv`);
  await waitFor(() => viewer.videoFrames().length >= 25, 5000, 'frames on origin-1');

  const since = origin2.logs.length;
  const dup = publish(media, `${origin2.rtmp}/${key}`, { loop: true });
  cluster.track(dup);
  const code = await exitWithin(dup, 10_000);
  assert.notEqual(code, 0, `the duplicate publisher fails: ${dup.stderr()}`);
  const warn = logLines(origin2, 'stream owned by another process', key, since)[0];
  assert.equal(warn?.owner, 'origin-1', 'origin-2 logs the owner');
  assert.equal(warn?.ownerInstance, owner.instanceId);
  assert.equal(warn?.epoch, owner.epoch);
  assert.match(String(logLines(origin2, 'publish refused', key, since)[0]?.why), /published on origin-1/);
  assert.equal(await counter(origin2.api, 'sluice_claims_refused_total'), 1);

  // origin-1's stream and claim are untouched.
  const framesAtRefusal = viewer.videoFrames().length;
  await sleep(1000);
  assert.ok(viewer.videoFrames().length >= framesAtRefusal + 20, 'origin-1 viewer keeps receiving');
  assert.equal(viewer.closed, false);
  assert.equal(viewer.timestampRegression(), null);
  assert.equal(pub.proc.exitCode, null, 'origin-1 publisher still running');
  const still = await cluster.registry.lookup(key);
  assert.equal(still?.nodeId, 'origin-1');
  assert.equal(still.epoch, owner.epoch, 'same claim, same epoch');
  viewer.stop();
  await pub.kill();
  await waitFor(async () => (await cluster.registry.lookup(key)) === null, 3000, 'release after unpublish');
});

test("a killed origin's claim runs out within its lease; its node record within its TTL", async (t) => {
  const key = 'live/doomed';
  const origin1 = cluster.origins[0]!;
  const pub = await publishTo(origin1, media, key);
  cluster.track(pub);
  await waitFor(async () => (await cluster.registry.lookup(key))?.nodeId === 'origin-1', 3000, 'the claim');
  // Past one refresh, so the lease left at the kill is between leaseMs - refreshMs and leaseMs.
  await sleep(TIMING.refreshMs + 200);

  const killedAt = Date.now();
  origin1.proc.kill('SIGKILL');
  const nodeGone = waitFor(
    async () => !(await cluster.registry.listNodes()).some((n) => n.nodeId === 'origin-1'),
    TIMING.nodeTtlMs + 1000,
    'the node record to expire',
  ).then(() => Date.now() - killedAt);
  await waitFor(
    async () => (await cluster.registry.lookup(key)) === null,
    TIMING.leaseMs + 1000,
    'the claim to expire',
  );
  const goneAfter = Date.now() - killedAt;
  t.diagnostic(
    `killed origin's claim gone ${goneAfter} ms after kill -9 (leaseMs ${TIMING.leaseMs}), node record after ${await nodeGone} ms`,
  );
  assert.ok(
    goneAfter >= TIMING.leaseMs - TIMING.refreshMs - 500,
    `claim vanished too early (${goneAfter} ms): not a lease`,
  );
  await pub.kill();
});

test('a SIGTERM-stopped origin releases its claim at once and exits 0', async (t) => {
  const key = 'live/graceful';
  const origin2 = cluster.origins[1]!;
  const pub = await publishTo(origin2, media, key);
  cluster.track(pub);
  const owner = await waitFor(
    async () => {
      const o = await cluster.registry.lookup(key);
      return o?.nodeId === 'origin-2' ? o : null;
    },
    3000,
    'the claim',
  );
  const mark = cluster.events.mark();

  const stoppedAt = Date.now();
  const exit = origin2.stop('SIGTERM');
  // The drain keeps the publisher up to drain.timeoutMs (1 s in tests: it stays), then the
  // claim is released at once.
  const drainMs = 1000;
  await waitFor(
    async () => (await cluster.registry.lookup(key)) === null,
    drainMs + 1500,
    'the claim to be released',
  );
  const releasedAfter = Date.now() - stoppedAt;
  t.diagnostic(`SIGTERM -> claim released: ${releasedAfter} ms (drain ${drainMs} ms)`);
  assert.ok(releasedAfter <= drainMs + 500, `released after ${releasedAfter} ms`);
  assert.equal(await exit, 0, 'exit code');
  const unpublished = await cluster.events.waitFor(
    Subject.StreamUnpublished,
    (e) => e.key === key,
    2000,
    mark,
  );
  assert.equal(unpublished.nodeId, 'origin-2');
  assert.equal(unpublished.epoch, owner.epoch);
  assert.equal(
    (await cluster.registry.listNodes()).some((n) => n.nodeId === 'origin-2'),
    false,
    'node unregistered',
  );
  await pub.kill();
});

test('every event on the wire kept the contract, none was dropped as invalid, every node was heard', () => {
  assertEventsValid(cluster);
  assert.ok(cluster.events.all.length > 0);
});
