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
import { httpFlv, type FlvCollector } from './helpers/flv-client.ts';
import { makeTestFlv } from './helpers/media.ts';
import { getJson, sleep, waitFor } from './helpers/sluice.ts';

// Infrastructure outages under load (DESIGN.md "Failure is normal"): Redis restarted empty
// (claims re-made, media untouched), NATS stopped (media untouched, events resume).

const SPEC = { durationS: 6, width: 640, height: 360, fps: 25, gop: 25 };
/**
 * Redis outages in a row: one longer than the lease (the claim would have run out anyway),
 * then short ones that end at different points of the origin's refresh cycle.
 */
const REDIS_OUTAGES_MS = [3500, 1000, 600, 1300];

let cluster: Cluster;
let media: string;

before(async () => {
  [media, cluster] = await Promise.all([
    makeTestFlv(SPEC),
    startCluster({ origins: 1, edges: 1, scheduler: true }),
  ]);
});

after(async () => {
  await cluster?.stop();
});

/** Video frames that arrived in [from, to) and the longest silence between arrivals there. */
function arrivals(c: FlvCollector, from: number, to: number): { frames: number; maxGapMs: number } {
  const times = c
    .videoFrames()
    .map((f) => f.tag.atMs)
    .filter((at) => at >= from && at < to);
  let maxGapMs = times.length ? Math.max(times[0]! - from, to - times[times.length - 1]!) : to - from;
  for (let i = 1; i < times.length; i++) maxGapMs = Math.max(maxGapMs, times[i]! - times[i - 1]!);
  return { frames: times.length, maxGapMs };
}

test('Redis restarted empty (several times): the origin claims its stream again, keeps it, and edge viewers keep playing', async (t) => {
  const key = 'live/redis';
  const origin = cluster.origins[0]!;
  const edge = cluster.edges[0]!;
  const pub = await publishTo(origin, media, key);
  cluster.track(pub);
  await waitFor(() => cluster.registry.lookup(key), 3000, 'the claim');
  const viewer = httpFlv(`${edge.http}/${key}.flv`);
  await waitFor(() => viewer.videoFrames().length >= 50, 10_000, 'edge viewer playing');

  const downAt = Date.now();
  for (const downMs of REDIS_OUTAGES_MS) {
    const claimedBefore = logLines(origin, 'stream claimed again', key).length;
    const logsBefore = origin.logs.length;
    // What the origin's ownership said this round, for failure messages.
    const story = (): string =>
      JSON.stringify(
        origin.logs
          .slice(logsBefore)
          .filter((l) => l.component === 'ownership' || l.msg === 'session kicked'),
      );
    await cluster.redis.kill9();
    await sleep(downMs);
    const restartedAt = Date.now();
    await cluster.redis.restart();
    const owner = await waitFor(
      () => cluster.registry.lookup(key).catch(() => null),
      8000,
      'the stream claimed again',
    ).catch((e: unknown) =>
      assert.fail(`Redis down ${downMs} ms: ${(e as Error).message}; origin: ${story()}`),
    );
    const reclaimedMs = Date.now() - restartedAt;
    assert.equal(owner.nodeId, 'origin-1');
    assert.ok(owner.since >= restartedAt, 'a new claim, made after the restart');
    // The claim holds through the next refreshes: the origin does not lose it to itself.
    await sleep(2 * TIMING.refreshMs);
    const lost = logLines(origin, 'stream claim lost, stopping the publish', key);
    assert.equal(
      lost.length,
      0,
      `Redis down ${downMs} ms: the origin dropped its own claim; ownership log: ${story()}`,
    );
    assert.equal(pub.proc.exitCode, null, 'the publisher is still connected');
    const later = await cluster.registry.lookup(key);
    assert.equal(later?.nodeId, 'origin-1', 'still claimed two refreshes later');
    const announced = cluster.events
      .of(Subject.StreamPublished)
      .filter((e) => e.key === key && e.ts >= restartedAt);
    assert.equal(announced.at(-1)?.epoch, later.epoch, 'stream.published again with the epoch of the claim');
    const listed = await getJson<{ streams: { key: string; owner: { nodeId: string; epoch: number } }[] }>(
      `${cluster.scheduler!.url}/api/v1/streams`,
    );
    const view = listed.streams.find((s) => s.key === key);
    assert.deepEqual(
      [view?.owner.nodeId, view?.owner.epoch],
      ['origin-1', later.epoch],
      "the scheduler's list",
    );
    const againCount = logLines(origin, 'stream claimed again', key).length - claimedBefore;
    t.diagnostic(
      `Redis down ${downMs} ms: claimed again after ${reclaimedMs} ms (${againCount} re-claim(s), ${owner.epoch === later.epoch ? 'same' : 'new'} epoch two refreshes later)`,
    );
  }
  await waitFor(
    async () => (await cluster.registry.listNodes()).length === 2,
    3000,
    'both nodes registered again',
  );

  const seen = arrivals(viewer, downAt, Date.now());
  t.diagnostic(
    `edge viewer across ${REDIS_OUTAGES_MS.length} Redis restarts (${Date.now() - downAt} ms): ${seen.frames} frames, longest silence ${seen.maxGapMs} ms`,
  );
  assert.ok(
    seen.frames >= ((Date.now() - downAt) / 1000) * SPEC.fps * 0.8,
    `${seen.frames} frames since Redis first went down`,
  );
  assert.equal(viewer.closed, false, 'viewer still connected');
  assert.ok(seen.maxGapMs < 1000, `longest silence ${seen.maxGapMs} ms`);
  assert.equal(viewer.timestampRegression(), null);
  viewer.stop();
  await pub.kill();
});

test('NATS stopped: edge viewers keep playing, a new stream still relays; after a restart events resume', async (t) => {
  const key = 'live/nats';
  const [origin] = cluster.origins;
  const edge = cluster.edges[0]!;
  const pub = await publishTo(origin!, media, key);
  cluster.track(pub);
  const viewer = httpFlv(`${edge.http}/${key}.flv`);
  await waitFor(() => viewer.videoFrames().length >= 25, 10_000, 'edge viewer playing');

  await cluster.nats.stop();
  const stoppedAt = Date.now();
  // A stream published during the outage: the edge finds its owner in Redis alone.
  const late = await publishTo(origin!, media, 'live/nats-late');
  cluster.track(late);
  const lateViewer = httpFlv(`${edge.http}/live/nats-late.flv`);
  await waitFor(() => lateViewer.videoFrames().length >= 10, 8000, 'a new stream relayed while NATS is down');
  await sleep(Math.max(0, stoppedAt + 3000 - Date.now()));
  const seen = arrivals(viewer, stoppedAt, stoppedAt + 3000);
  t.diagnostic(
    `edge viewer during 3 s without NATS: ${seen.frames} frames, longest silence ${seen.maxGapMs} ms`,
  );
  assert.ok(seen.frames >= 60, `${seen.frames} frames in 3 s at ${SPEC.fps} fps`);
  assert.ok(seen.maxGapMs < 1000, `longest silence ${seen.maxGapMs} ms`);
  assert.equal(viewer.closed, false);

  const mark = cluster.events.mark();
  await cluster.nats.restart();
  const restartedAt = Date.now();
  await cluster.events.waitFor(
    Subject.NodeHeartbeat,
    (e) => e.nodeId === 'edge-1' && e.ts >= restartedAt,
    8000,
    mark,
  );
  await cluster.events.waitFor(
    Subject.NodeHeartbeat,
    (e) => e.nodeId === 'origin-1' && e.ts >= restartedAt,
    3000,
    mark,
  );
  t.diagnostic(`NATS restart -> heartbeats from both nodes: ${Date.now() - restartedAt} ms`);
  const fresh = httpFlv(`${edge.http}/${key}.flv`);
  const started = await cluster.events.waitFor(
    Subject.SessionStarted,
    (e) => e.nodeId === 'edge-1' && e.key === key && e.kind === 'player' && e.ts >= restartedAt,
    3000,
    mark,
  );
  assert.equal(started.protocol, 'http-flv');
  const queued = cluster.events.all.slice(mark).filter((e) => {
    const ts = (e.data as { ts?: number } | null)?.ts ?? 0;
    return ts >= stoppedAt && ts < restartedAt;
  });
  t.diagnostic(
    `events emitted during the NATS outage and delivered after it: ${queued.length} (${[...new Set(queued.map((e) => e.subject))].join(', ')})`,
  );
  await waitFor(() => fresh.videoFrames().length >= 10, 5000, 'the new viewer playing');
  for (const c of [viewer, lateViewer, fresh]) {
    assert.equal(c.timestampRegression(), null);
    c.stop();
  }
  await Promise.all([pub.kill(), late.kill()]);
});

test('every event on the wire kept the contract, none was dropped as invalid, every node was heard', () => {
  assertEventsValid(cluster);
});
