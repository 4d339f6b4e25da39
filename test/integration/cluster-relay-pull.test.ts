import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertEventsValid, startCluster, type Cluster } from './helpers/cluster.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { decodeWithFfmpeg } from './helpers/rtsp.ts';
import { startSluice, TEST_CONFIG, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// A static always-on pull on an origin is a publish like any other: the origin claims the key in
// Redis (its owner is visible to the cluster) and an edge's viewer plays it through the relay.

const KEY = 'live/pulled';
let source: SluiceProcess;
let ffmpeg: Child;
let cluster: Cluster;

before(async () => {
  const media = await makeTestFlv({ durationS: 10, width: 320, height: 240, fps: 25, gop: 25 });
  source = await startSluice(TEST_CONFIG);
  ffmpeg = publish(media, `${source.rtmp}/live/src`, { loop: true });
  await waitFor(() => source.logs.some((l) => l.msg === 'publish started'), 10_000, 'the source publish');
  cluster = await startCluster({
    origins: 1,
    edges: 1,
    originConfig: { relay: { pulls: [{ url: `${source.rtmp}/live/src`, key: KEY, timeoutMs: 3000 }] } },
  });
});

after(async () => {
  await cluster?.stop();
  await ffmpeg?.kill();
  await source?.stop();
});

test('an origin with an always-on pull owns the key; an edge viewer plays it', async () => {
  const owner = await waitFor(() => cluster.registry.lookup(KEY), 15_000, 'the claim');
  assert.equal(owner.nodeId, 'origin-1');
  const d = await decodeWithFfmpeg(`${cluster.edges[0]!.http}/${KEY}.flv`, 3);
  assert.equal(d.errors, '');
  assert.ok(d.video >= 50, `${d.video} frames decoded on the edge`);
  // The pull is announced as a publisher session of protocol rtmp-pull.
  const started = cluster.events.all.find(
    (e) => e.subject.includes('session') && (e.data as { protocol?: string }).protocol === 'rtmp-pull',
  );
  assert.ok(started, 'a session event for the pull');
  assertEventsValid(cluster);
});
