import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { signedQuery, type AuthAction } from '../../libs/auth/signed-url.ts';
import { logText, tryPlay } from './helpers/auth-probes.ts';
import { RtmpViewer, startCluster, type Cluster } from './helpers/cluster.ts';
import { makeTestFlv, publish } from './helpers/media.ts';
import { waitFor } from './helpers/sluice.ts';

// Play authorization on an edge (origin + edge + Redis + NATS): the edge checks its viewers
// itself, its relay pull from the origin uses the cluster credential and passes the origin's own
// viewer checks without any viewer credential.

const SECRET = 'cluster-signing-secret-0123456789';
const auth = { signed: { enabled: true, secrets: [SECRET] } };
const sign = (action: AuthAction, key: string): string =>
  signedQuery(SECRET, action, key, Math.floor(Date.now() / 1000) + 120);

let cluster: Cluster;
let media = '';

before(async () => {
  [media, cluster] = await Promise.all([
    makeTestFlv({ durationS: 4, width: 320, height: 240, fps: 25, gop: 25, videoKbps: 300 }),
    startCluster({ origins: 1, edges: 1, originConfig: { auth }, edgeConfig: { auth } }),
  ]);
});

after(async () => {
  await cluster?.stop();
});

test('an edge refuses viewers without a valid signature and serves signed ones through its relay', async () => {
  const key = 'live/edge-auth';
  const origin = cluster.origins[0]!;
  const edge = cluster.edges[0]!;
  const since = origin.logs.length;
  const pub = publish(media, `${origin.rtmp}/${key}?${sign('publish', key)}`, { loop: true });
  cluster.track(pub);
  await waitFor(
    () => origin.logs.slice(since).some((l) => l.msg === 'publish started' && l.stream === key),
    10_000,
    'the signed publish to start',
  );
  // The origin checks its own viewers too.
  assert.equal(await tryPlay(origin, 'rtmp', key, ''), 'refused');
  assert.equal(await tryPlay(origin, 'http-flv', key, ''), 401);

  assert.equal(await tryPlay(edge, 'http-flv', key, ''), 401);
  assert.equal(await tryPlay(edge, 'http-flv', key, sign('play', 'live/other')), 403);
  assert.equal(await tryPlay(edge, 'rtmp', key, sign('publish', key)), 'refused');

  // A signed viewer plays: the edge's relay pull from the origin carries no viewer credential.
  const v = await RtmpViewer.play(`${edge.rtmp}/${key}?${sign('play', key)}`);
  try {
    await waitFor(() => v.videoFrames().length >= 10, 10_000, 'video through the edge');
  } finally {
    v.close();
  }
  assert.equal(await tryPlay(edge, 'http-flv', key, sign('play', key)), 'ok');
  assert.equal(await tryPlay(edge, 'hls', key, sign('play', key)), 'ok');
  const relays = origin.logs.filter(
    (l) => l.msg === 'play started' && l.kind === 'relay' && l.stream === key,
  );
  assert.ok(relays.length >= 1, 'the origin served a relay pull');
  const originRefusals = origin.logs.filter((l) => l.msg === 'play refused by auth');
  assert.equal(originRefusals.length, 2, 'the origin refused only the two direct viewers, never the relay');
  // No signature or secret in any node's log; the edge forwarded no viewer query to the origin.
  const logs = logText([origin, edge]);
  assert.ok(!logs.includes(SECRET));
  assert.ok(!/[0-9a-f]{64}/.test(logs), 'a signature in the logs');
});
