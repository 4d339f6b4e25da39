import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from '../../libs/cluster/types.ts';
import {
  median,
  nodeStream,
  publishTo,
  startCluster,
  TIMING,
  type Cluster,
  assertEventsValid,
} from './helpers/cluster.ts';
import { httpFlv, wsFlv, type FlvCollector } from './helpers/flv-client.ts';
import { capture, firstTimestampRegression, makeTestFlv, probe, publish } from './helpers/media.ts';
import { counter } from './helpers/net.ts';
import { sleep, waitFor } from './helpers/sluice.ts';

// Playback through the cluster: publish to an origin, play from edges over every protocol,
// the scheduler's view and routing, one relay per edge, idle relays stopping, and the
// latency the origin -> edge hop adds.

const SPEC = { durationS: 6, width: 640, height: 360, fps: 25, gop: 25 };

let cluster: Cluster;
let media: string;
const dir = mkdtempSync(join(tmpdir(), 'sluice-cluster-play-'));

before(async () => {
  [media, cluster] = await Promise.all([
    makeTestFlv(SPEC),
    startCluster({ origins: 2, edges: 2, scheduler: true }),
  ]);
});

after(async () => {
  await cluster?.stop();
});

interface StreamViewBody {
  key: string;
  owner: { nodeId: string; epoch: number; viewers: number };
  media: { videoCodec?: string; audioCodec?: string; width?: number; height?: number };
  edges: { nodeId: string; viewers: number }[];
}

async function schedulerGet<T>(path: string): Promise<{ status: number; body: T; location: string | null }> {
  const res = await fetch(`${cluster.scheduler!.url}${path}`, { redirect: 'manual' });
  return { status: res.status, body: (await res.json()) as T, location: res.headers.get('location') };
}

function checkCollector(c: FlvCollector, what: string, minFrames: number): void {
  assert.equal(c.status, what.startsWith('ws') ? 101 : 200, `${what} status`);
  const frames = c.videoFrames();
  assert.ok(frames.length >= minFrames, `${what}: ${frames.length} video frames, want >= ${minFrames}`);
  assert.equal(frames[0]!.key, true, `${what}: first video frame is a key frame`);
  assert.equal(c.timestampRegression(), null, `${what}: timestamps never go back`);
  assert.equal(c.closed, false, `${what} still playing`);
}

test('published to origin-1, played from edge-2 over RTMP, HTTP-FLV and WS-FLV; the scheduler knows the owner and routes to an edge', async (t) => {
  const key = 'live/x';
  const [origin1] = cluster.origins;
  const edge2 = cluster.edges[1]!;

  const t0 = Date.now();
  const pub = publish(media, `${origin1!.rtmp}/${key}`, { loop: true });
  cluster.track(pub);
  const view = await waitFor(
    async () => {
      const r = await schedulerGet<StreamViewBody>(`/api/v1/streams/${key}`);
      return r.status === 200 && r.body.owner.nodeId === 'origin-1' ? r.body : null;
    },
    10_000,
    'the scheduler to report the owner',
  );
  t.diagnostic(
    `publish -> scheduler visibility: ${Date.now() - t0} ms (ffmpeg start to owner in /api/v1/streams/${key})`,
  );
  assert.ok(Number.isInteger(view.owner.epoch) && view.owner.epoch > 0, `epoch ${view.owner.epoch}`);
  const withMedia = await waitFor(
    async () => {
      const r = await schedulerGet<StreamViewBody>(`/api/v1/streams/${key}`);
      return r.body.media?.videoCodec && r.body.media.audioCodec ? r.body : null;
    },
    5000,
    'media info in the registry',
  );
  assert.deepEqual(withMedia.media, {
    videoCodec: 'h264',
    audioCodec: 'aac',
    width: SPEC.width,
    height: SPEC.height,
  });
  // Let a GOP or two go by so the origin's cache is warm, as for any live stream.
  await sleep(1500);

  const flv = httpFlv(`${edge2.http}/${key}.flv`);
  const firstFrame = await waitFor(() => flv.videoFrames()[0], 10_000, 'the first frame on edge-2');
  t.diagnostic(
    `first edge viewer request -> first frame (relay not yet running): ${firstFrame.tag.atMs - flv.startedAt} ms`,
  );
  const ws = wsFlv(`${edge2.ws}/${key}.flv`);
  const rtmpOut = join(dir, 'edge-rtmp.flv');
  const rtmpViewer = capture(`${edge2.rtmp}/${key}`, rtmpOut, { seconds: 3 });
  cluster.track(rtmpViewer);
  assert.equal(await rtmpViewer.exited, 0, `RTMP viewer: ${rtmpViewer.stderr()}`);
  const p = await probe(rtmpOut, { packets: true });
  const v = p.streams.find((s) => s.codec_type === 'video');
  const a = p.streams.find((s) => s.codec_type === 'audio');
  assert.equal(v?.codec_name, 'h264');
  assert.equal(a?.codec_name, 'aac');
  assert.equal(v?.width, SPEC.width);
  assert.equal(v?.height, SPEC.height);
  const videoPackets = p.packets.filter((x) => x.stream_index === v!.index);
  assert.ok(videoPackets.length >= 60, `RTMP viewer: ${videoPackets.length} video frames in 3 s`);
  assert.equal(videoPackets[0]!.flags.startsWith('K'), true, 'RTMP viewer starts on a key frame');
  assert.equal(firstTimestampRegression(p.packets), null, 'RTMP viewer timestamps never go back');

  checkCollector(flv, 'http-flv', 75);
  checkCollector(ws, 'ws-flv', 50);

  // The scheduler: edge-2 relays the stream, so a viewer goes there.
  const route = await waitFor(
    async () => {
      const r = await schedulerGet<{ edge: { nodeId: string; reason: string }; url: string }>(
        `/api/v1/route/${key}?protocol=flv`,
      );
      return r.status === 200 && r.body.edge.reason === 'relaying' ? r.body : null;
    },
    5000,
    'a route to the relaying edge',
  );
  assert.equal(route.edge.nodeId, 'edge-2');
  assert.equal(route.url, `${edge2.http}/${key}.flv`);
  const seen = await schedulerGet<StreamViewBody>(`/api/v1/streams/${key}`);
  assert.deepEqual(
    seen.body.edges.map((e) => e.nodeId),
    ['edge-2'],
  );
  const redirect = await schedulerGet<unknown>(`/play/${key}.flv`);
  assert.equal(redirect.status, 302);
  assert.ok(redirect.location?.startsWith('http://127.0.0.1:'), `Location ${redirect.location}`);
  const played = await probe(redirect.location!, { timeoutMs: 15_000 });
  assert.deepEqual(played.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);

  flv.stop();
  ws.stop();
  await pub.kill();
});

test('ten viewers on two edges: exactly one relay per edge, and each relay stops idleStopMs after its last viewer', async (t) => {
  const key = 'live/many';
  const origin2 = cluster.origins[1]!;
  const pullsBefore = await counter(origin2.api, 'sluice_relay_pulls_started_total');
  const mark = cluster.events.mark();
  const pub = await publishTo(origin2, media, key);
  cluster.track(pub);

  const viewers = Array.from({ length: 10 }, (_, i) => httpFlv(`${cluster.edges[i % 2]!.http}/${key}.flv`));
  await waitFor(
    () => viewers.every((c) => c.videoFrames().length >= 25),
    15_000,
    'frames at all ten viewers',
  );
  // The edges' counts, the origin's count and the relay counter all settle within a heartbeat.
  await waitFor(
    async () => (await nodeStream(origin2, key))?.subscribers === 2,
    3000,
    'two relay pulls at the origin',
  );
  assert.equal(
    (await counter(origin2.api, 'sluice_relay_pulls_started_total')) - pullsBefore,
    2,
    'relay pulls started',
  );
  for (const edge of cluster.edges) {
    const s = await nodeStream(edge, key);
    assert.equal(s?.subscribers, 5, 'viewers on each edge');
    assert.ok(s.publisher?.id.startsWith('relay:origin-2:'), `edge publisher ${s.publisher?.id}`);
  }
  const starts = cluster.events.of(Subject.RelayStarted, mark).filter((e) => e.key === key);
  assert.deepEqual(starts.map((e) => e.nodeId).sort(), ['edge-1', 'edge-2'], 'one relay.started per edge');
  assert.ok(starts.every((e) => e.fromNodeId === 'origin-2'));
  for (const c of viewers) assert.equal(c.timestampRegression(), null);

  for (const c of viewers) c.stop();
  const leftAt = Date.now();
  await waitFor(
    async () => (await nodeStream(origin2, key))?.subscribers === 0,
    TIMING.idleStopMs + 3000,
    'relays to stop',
  );
  const stoppedAfter = Date.now() - leftAt;
  t.diagnostic(
    `relays stopped ${stoppedAfter} ms after the last viewer left (idleStopMs ${TIMING.idleStopMs})`,
  );
  assert.ok(stoppedAfter >= TIMING.idleStopMs - 250, `relays stopped too early: ${stoppedAfter} ms`);
  const stops = await waitFor(
    () => {
      const s = cluster.events.of(Subject.RelayStopped, mark).filter((e) => e.key === key);
      return s.length >= 2 ? s : null;
    },
    2000,
    'relay.stopped from both edges',
  );
  assert.deepEqual(stops.map((e) => e.nodeId).sort(), ['edge-1', 'edge-2']);
  await pub.kill();
  // The event says why the relay ended: the edge ran out of viewers, the origin closed nothing.
  assert.deepEqual(
    stops.map((e) => e.reason),
    ['no viewers', 'no viewers'],
  );
});

test('the origin -> edge hop adds little latency (same frame at an origin viewer and an edge viewer)', async (t) => {
  const key = 'live/lat';
  const [origin1] = cluster.origins;
  const pub = await publishTo(origin1!, media, key);
  cluster.track(pub);
  const atOrigin = httpFlv(`${origin1!.http}/${key}.flv`);
  const atEdge = httpFlv(`${cluster.edges[0]!.http}/${key}.flv`);
  // ~100 frames after the edge viewer's GOP-cache burst.
  await waitFor(() => atEdge.videoFrames().length >= 175, 15_000, 'frames at the edge viewer');
  const hash = (b: Buffer): string => createHash('sha1').update(b).digest('hex');
  const originTimes = new Map(atOrigin.videoFrames().map((f) => [hash(f.tag.body), f.tag.atMs]));
  const deltas = atEdge
    .videoFrames()
    .slice(-100)
    .map((f) => {
      const o = originTimes.get(hash(f.tag.body));
      return o === undefined ? null : f.tag.atMs - o;
    })
    .filter((d): d is number => d !== null);
  assert.ok(deltas.length >= 90, `matched ${deltas.length} of 100 frames`);
  const m = median(deltas);
  t.diagnostic(
    `origin->edge hop latency: median ${m} ms over ${deltas.length} frames (min ${Math.min(...deltas)}, max ${Math.max(...deltas)})`,
  );
  assert.ok(m < 250, `median hop latency ${m} ms`);
  atOrigin.stop();
  atEdge.stop();
  await pub.kill();
});

test('every event on the wire kept the contract, none was dropped as invalid, every node was heard', () => {
  assertEventsValid(cluster);
  assert.ok(cluster.events.all.length > 0);
});
