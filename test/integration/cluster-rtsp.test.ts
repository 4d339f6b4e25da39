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
    startCluster({ origins: 2, edges: 1, scheduler: true }),
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

test('origin killed (-9) under an RTSP publish: the publisher moves to another origin, the edge RTSP viewer plays on with one sequence space', async () => {
  const key = 'live/rtsp-failover';
  const [o1, o2] = cluster.origins;
  const edge = cluster.edges[0]!;
  const pub1 = rtspPublish(media, `${o1!.rtsp}/${key}`, 'tcp', { loop: true });
  cluster.track(pub1);
  await waitFor(() => cluster.registry.lookup(key), 10_000, 'the claim');
  await sleep(1500);
  const viewer = await RawRtsp.open(portOf(edge.rtsp!));
  const base = `${edge.rtsp}/${key}`;
  const seqs: number[] = [];
  const ssrcs = new Set<number>();
  viewer.onPacket = (ch, pkt) => {
    if (ch !== 0) return;
    seqs.push(pkt.readUInt16BE(2));
    ssrcs.add(pkt.readUInt32BE(8));
  };
  try {
    assert.equal((await viewer.request('DESCRIBE', base)).status, 200);
    const s = await viewer.request('SETUP', `${base}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    const id = s.headers.get('session')![0]!.split(';')[0]!;
    assert.equal((await viewer.request('PLAY', base, { Session: id })).status, 200);
    await waitFor(() => seqs.length > 30, 5000, 'video before the fault');
    await o1!.stop('SIGKILL');
    await pub1.kill();
    const before = seqs.length;
    // The encoder reconnects to the other origin (as it would through the scheduler's ingest).
    cluster.track(rtspPublish(media, `${o2!.rtsp}/${key}`, 'tcp', { loop: true }));
    await waitFor(() => seqs.length > before + 50, 20_000, 'video after the failover');
    assert.ok(!viewer.closed, 'the RTSP viewer stayed connected');
    assert.equal(ssrcs.size, 1, 'one SSRC for the stream across owners');
    for (let i = 1; i < seqs.length; i++) {
      const step = (seqs[i]! - seqs[i - 1]!) & 0xffff;
      assert.ok(step > 0 && step < 0x8000, `sequence went back at ${i}: ${seqs[i - 1]} -> ${seqs[i]}`);
    }
    const owner = await cluster.registry.lookup(key);
    assert.equal(owner?.nodeId, 'origin-2');
  } finally {
    viewer.close();
  }
});
