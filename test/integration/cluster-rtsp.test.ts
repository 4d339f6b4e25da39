import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject } from '../../libs/cluster/types.ts';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { makeTestFlv } from './helpers/media.ts';
import { portOf } from './helpers/net.ts';
import { decodeWithFfmpeg, gstreamerPlay, RawRtsp, rtspPublish } from './helpers/rtsp.ts';
import { sleep, waitFor } from './helpers/sluice.ts';

// RTSP in a cluster: an RTSP publish makes its origin the owner like an RTMP one, edges serve
// RTSP viewers from their relay, and the scheduler routes RTSP viewers to an edge's advertised
// RTSP address.

const SPEC = { durationS: 20, width: 320, height: 240, fps: 25, gop: 25, videoKbps: 300 };

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

test('an RTSP publish claims its key; an edge serves it to RTSP players routed there by the scheduler', async () => {
  const key = 'live/rtsp-cluster';
  const [origin] = cluster.origins;
  const [edge] = cluster.edges;
  cluster.track(rtspPublish(media, `${origin!.rtsp}/${key}`, 'tcp', { loop: true }));
  const owner = await waitFor(() => cluster.registry.lookup(key), 10_000, 'the claim');
  assert.equal(owner.nodeId, 'origin-1');
  const started = await cluster.events.waitFor(
    Subject.SessionStarted,
    (e) => e.key === key && e.kind === 'publisher',
    5000,
  );
  assert.equal(started.protocol, 'rtsp');
  await sleep(1500);

  const r = await fetch(`${cluster.scheduler!.url}/api/v1/route/${key}?protocol=rtsp`);
  assert.equal(r.status, 200);
  const route = (await r.json()) as { edge: { nodeId: string }; url: string };
  assert.equal(route.edge.nodeId, 'edge-1');
  assert.equal(route.url, `${edge!.rtsp}/${key}`, 'the edge advertises its RTSP listener');

  const [ffmpeg, gst] = await Promise.all([
    decodeWithFfmpeg(route.url, 4, ['-rtsp_transport', 'tcp']),
    gstreamerPlay(route.url, 5, 'tcp'),
  ]);
  assert.equal(ffmpeg.errors, '');
  assert.ok(ffmpeg.video >= 60, `ffmpeg decoded ${ffmpeg.video}`);
  assert.equal(gst.errors, '');
  assert.ok(gst.video >= 60, `gstreamer decoded ${gst.video}`);
  // The edge played it from a relay of the origin, as RTSP sessions of its own.
  const player = await cluster.events.waitFor(
    Subject.SessionStarted,
    (e) => e.key === key && e.kind === 'player' && e.nodeId === 'edge-1',
    5000,
  );
  assert.equal(player.protocol, 'rtsp');
  await cluster.events.waitFor(Subject.RelayStarted, (e) => e.key === key && e.nodeId === 'edge-1', 5000);
});

test('an edge refuses RTSP publishers', async () => {
  const edge = cluster.edges[0]!;
  const c = await RawRtsp.open(portOf(edge.rtsp!));
  try {
    const sdp = Buffer.from(
      'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\n',
    );
    const r = await c.request(
      'ANNOUNCE',
      `${edge.rtsp}/live/on-edge`,
      { 'Content-Type': 'application/sdp' },
      sdp,
    );
    assert.equal(r.status, 403);
  } finally {
    c.close();
  }
});
