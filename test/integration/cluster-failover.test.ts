import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject } from '../../libs/cluster/types.ts';
import {
  nodeStream,
  publishTo,
  publishUntilAccepted,
  RtmpViewer,
  startCluster,
  TIMING,
  type Cluster,
} from './helpers/cluster.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv } from './helpers/media.ts';
import { waitFor } from './helpers/sluice.ts';

// Origin failover with viewers attached: origin-1 dies (kill -9), the publisher comes back on
// origin-2 once the dead claim's lease ran out, the edge follows the new owner, and the
// viewers' own connections carry on, resuming on a key frame with increasing timestamps.

const SPEC = { durationS: 6, width: 640, height: 360, fps: 25, gop: 25 };
/** Upper bound on the picture gap a viewer sees across the failover. */
const MAX_GAP_MS = 10_000;

let cluster: Cluster;
let media: string;

before(async () => {
  [media, cluster] = await Promise.all([makeTestFlv(SPEC), startCluster({ origins: 2, edges: 1 })]);
});

after(async () => {
  await cluster?.stop();
});

interface Arrival {
  atMs: number;
  timestamp: number;
  key: boolean;
}

/** The last frame before `cut` and the first at or after it (arrival time). */
function aroundCut(frames: Arrival[], cut: number): { last: Arrival; first: Arrival } {
  const i = frames.findIndex((f) => f.atMs >= cut);
  assert.ok(i > 0, 'frames on both sides of the failover');
  return { last: frames[i - 1]!, first: frames[i]! };
}

test('publisher moves from a live origin-1 to origin-2: the edge follows at once, not after origin-1 gives up', async (t) => {
  const key = 'live/move';
  const [origin1, origin2] = [cluster.origins[0]!, cluster.origins[1]!];
  const edge = cluster.edges[0]!;
  const pub1 = await publishTo(origin1, media, key);
  cluster.track(pub1);
  const flv = httpFlv(`${edge.http}/${key}.flv`);
  await waitFor(() => flv.videoFrames().length >= 50, 10_000, 'the viewer playing from origin-1');
  const mark = cluster.events.mark();

  // The publisher leaves origin-1 (which stays up and releases the key) and comes back on origin-2.
  await pub1.kill();
  const movedAt = Date.now();
  const { pub: pub2 } = await publishUntilAccepted(origin2, media, key, { retryMs: 200, timeoutMs: 5000 });
  cluster.track(pub2);
  const before = flv.videoFrames().length;
  // Well under origin-1's viewer grace (stream.waitPublisherMs): the edge must not wait for it.
  await waitFor(() => flv.videoFrames().length >= before + 25, 4000, 'frames from origin-2');
  const after = flv.videoFrames().slice(before);
  t.diagnostic(
    `publisher moved between live origins: frames again ${after[0]!.tag.atMs - movedAt} ms after the move`,
  );
  assert.equal(after[0]!.key, true, 'resumes on a key frame');
  assert.equal(flv.timestampRegression(), null);
  assert.equal(flv.closed, false);
  const relay = cluster.events.of(Subject.RelayStarted, mark).find((e) => e.key === key);
  assert.equal(relay?.fromNodeId, 'origin-2');
  flv.stop();
  await pub2.kill();
});

test('origin-1 killed: viewers on edge-1 stay connected and resume from origin-2 on a key frame, timestamps increasing', async (t) => {
  const key = 'live/failover';
  const [origin1, origin2] = [cluster.origins[0]!, cluster.origins[1]!];
  const edge = cluster.edges[0]!;
  const pub1 = await publishTo(origin1, media, key);
  cluster.track(pub1);
  const firstOwner = await waitFor(() => cluster.registry.lookup(key), 3000, 'the claim');

  const flv = httpFlv(`${edge.http}/${key}.flv`);
  const rtmp = await RtmpViewer.play(`${edge.rtmp}/${key}`);
  await waitFor(
    () => flv.videoFrames().length >= 50 && rtmp.videoFrames().length >= 50,
    10_000,
    'both viewers playing',
  );
  const playersBefore = cluster.events
    .of(Subject.SessionStarted)
    .filter((e) => e.nodeId === 'edge-1' && e.kind === 'player').length;
  const mark = cluster.events.mark();

  const killedAt = Date.now();
  origin1.proc.kill('SIGKILL');
  const { pub: pub2, attempts } = await publishUntilAccepted(origin2, media, key, {
    retryMs: 500,
    timeoutMs: 15_000,
  });
  cluster.track(pub2);
  const acceptedAt = Date.now();
  t.diagnostic(
    `publish to origin-2 accepted ${acceptedAt - killedAt} ms after the kill, on attempt ${attempts}`,
  );
  assert.ok(attempts > 1, 'origin-2 refused the key while the dead claim lived');

  const framesAt = { flv: flv.videoFrames().length, rtmp: rtmp.videoFrames().length };
  await waitFor(
    () => flv.videoFrames().length >= framesAt.flv + 50 && rtmp.videoFrames().length >= framesAt.rtmp + 50,
    MAX_GAP_MS,
    'frames from origin-2 at both viewers',
  );

  // The same connections: neither viewer was closed, and edge-1 started no new player session.
  assert.equal(flv.closed, false, 'HTTP-FLV viewer still connected');
  assert.equal(rtmp.closed, false, 'RTMP viewer still connected');
  assert.equal(
    cluster.events.of(Subject.SessionStarted).filter((e) => e.nodeId === 'edge-1' && e.kind === 'player')
      .length,
    playersBefore,
    'no viewer reconnected',
  );
  assert.equal((await nodeStream(edge, key))?.subscribers, 2);

  const flvFrames = flv
    .videoFrames()
    .map((f) => ({ atMs: f.tag.atMs, timestamp: f.tag.timestampMs, key: f.key }));
  for (const [name, frames] of [
    ['http-flv', flvFrames],
    ['rtmp', rtmp.videoFrames()],
  ] as const) {
    // Nothing from origin-2 can arrive before origin-2 accepted the publish.
    const { last, first } = aroundCut(frames, acceptedAt);
    const gap = first.atMs - last.atMs;
    t.diagnostic(
      `${name} failover gap: ${gap} ms (last frame ${last.atMs - killedAt} ms after the kill, next ${first.atMs - killedAt} ms after)`,
    );
    assert.ok(gap < MAX_GAP_MS, `${name} gap ${gap} ms`);
    assert.ok(last.atMs - killedAt < 500, `${name}: the last frame before the gap came from origin-1`);
    assert.equal(first.key, true, `${name}: resumes on a key frame`);
    assert.ok(first.timestamp > last.timestamp, `${name}: ${last.timestamp} -> ${first.timestamp}`);
  }
  assert.equal(flv.timestampRegression(), null, 'HTTP-FLV timestamps never go back');
  assert.equal(rtmp.timestampRegression(), null, 'RTMP timestamps never go back');

  // The edge follows the new owner, under a new epoch.
  const owner = await cluster.registry.lookup(key);
  assert.equal(owner?.nodeId, 'origin-2');
  assert.ok(owner.epoch > firstOwner.epoch, `epoch ${firstOwner.epoch} -> ${owner.epoch}`);
  const relay = cluster.events.of(Subject.RelayStarted, mark).find((e) => e.key === key);
  assert.equal(relay?.fromNodeId, 'origin-2');
  assert.equal(relay.epoch, owner.epoch);
  assert.ok((await nodeStream(edge, key))?.publisher?.id.startsWith('relay:origin-2:'));
  assert.ok(
    cluster.events.of(Subject.RelayStopped, mark).some((e) => e.key === key && e.fromNodeId === 'origin-1'),
    'relay.stopped for the dead origin',
  );
  assert.ok(acceptedAt - killedAt < TIMING.leaseMs + 2000, 'the dead claim ran out within its lease');

  flv.stop();
  rtmp.close();
  await pub2.kill();
});

test('every event the cluster emitted matched its JSON Schema', () => {
  assert.deepEqual(cluster.events.invalid(), []);
});
