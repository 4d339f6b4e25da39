import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseVideoTag, TagType } from '../../libs/flv/index.ts';
import { httpFlv, wsFlv } from './helpers/flv-client.ts';
import {
  capture,
  firstTimestampRegression,
  makeTestFlv,
  probe,
  publish,
  type Child,
} from './helpers/media.ts';
import { getJson, sleep, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';

const SPEC = { durationS: 6, width: 640, height: 360, fps: 25, gop: 25 };
const EXPECTED_FRAMES = SPEC.durationS * SPEC.fps;

let server: SluiceProcess;
let media: string;
const children: Child[] = [];
const dir = mkdtempSync(join(tmpdir(), 'sluice-play-'));

before(async () => {
  media = await makeTestFlv(SPEC);
  // Viewers wait up to 4 s for a publisher and are released 4 s after it leaves.
  server = await startSluice({ stream: { waitPublisherMs: 4000 } });
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await server?.stop();
});

interface StreamList {
  streams: { key: string; subscribers: number; publisher: unknown }[];
}

async function subscribers(key: string): Promise<number> {
  const j = await getJson<StreamList>(`${server.api}/api/v1/streams`);
  return j.streams.find((s) => s.key === key)?.subscribers ?? 0;
}

test('viewers waiting before the publisher get the whole stream over RTMP, HTTP-FLV and WebSocket-FLV', async () => {
  const key = 'live/early';
  const rtmpOut = join(dir, 'rtmp.flv');
  const flvOut = join(dir, 'http.flv');
  const rtmpViewer = capture(`${server.rtmp}/${key}`, rtmpOut);
  const httpViewer = capture(`${server.http}/${key}.flv`, flvOut);
  const ws = wsFlv(`${server.ws}/${key}.flv`);
  children.push(rtmpViewer, httpViewer);
  await waitFor(async () => (await subscribers(key)) === 3, 5000, 'three waiting viewers');

  const pub = publish(media, `${server.rtmp}/${key}`);
  children.push(pub);
  assert.equal(await pub.exited, 0, `publisher failed: ${pub.stderr()}`);
  // The server ends viewers waitPublisherMs after the publisher left.
  const [rc1, rc2] = await Promise.all([rtmpViewer.exited, httpViewer.exited, ws.whenClosed()]);
  assert.equal(rc1, 0, `rtmp viewer: ${rtmpViewer.stderr()}`);
  assert.equal(rc2, 0, `http viewer: ${httpViewer.stderr()}`);

  for (const [name, file] of [
    ['rtmp', rtmpOut],
    ['http-flv', flvOut],
  ] as const) {
    const p = await probe(file, { packets: true });
    const v = p.streams.find((s) => s.codec_type === 'video');
    const a = p.streams.find((s) => s.codec_type === 'audio');
    assert.equal(v?.codec_name, 'h264', `${name} video codec`);
    assert.equal(v?.width, SPEC.width);
    assert.equal(v?.height, SPEC.height);
    assert.equal(a?.codec_name, 'aac', `${name} audio codec`);
    const videoPackets = p.packets.filter((x) => x.stream_index === v!.index);
    assert.ok(
      Math.abs(videoPackets.length - EXPECTED_FRAMES) <= 2,
      `${name}: ${videoPackets.length} video frames, want ~${EXPECTED_FRAMES}`,
    );
    const audioPackets = p.packets.filter((x) => x.stream_index === a!.index);
    const audioSeconds = (audioPackets.length * 1024) / 44100;
    assert.ok(
      Math.abs(audioSeconds - SPEC.durationS) < 0.3,
      `${name}: ${audioSeconds.toFixed(2)} s of audio`,
    );
    assert.equal(firstTimestampRegression(p.packets), null, `${name}: timestamps went back`);
    assert.equal(videoPackets[0]?.flags.startsWith('K'), true, `${name}: first frame is a key frame`);
  }

  // WebSocket-FLV, checked tag by tag and then decoded by ffprobe.
  assert.equal(ws.status, 101);
  assert.ok(ws.reader.header, 'FLV header');
  assert.equal(ws.tags[0]?.type, TagType.Script, 'metadata first');
  const frames = ws.videoFrames();
  assert.ok(Math.abs(frames.length - EXPECTED_FRAMES) <= 2, `ws: ${frames.length} frames`);
  assert.equal(frames[0]?.key, true, 'ws: first frame is a key frame');
  const firstVideo = ws.videoTags()[0]!;
  assert.equal(parseVideoTag(firstVideo.body).isSequenceHeader, true, 'ws: sequence header before frames');
  assert.equal(ws.timestampRegression(), null);
  const wsFile = join(dir, 'ws.flv');
  writeFileSync(wsFile, Buffer.concat(ws.chunks));
  const p = await probe(wsFile);
  assert.deepEqual(p.streams.map((s) => [s.codec_type, s.codec_name, s.width ?? null]).sort(), [
    ['audio', 'aac', null],
    ['video', 'h264', SPEC.width],
  ]);
});

test('a late viewer starts on a key frame at once (GOP cache), with CORS and the FLV content type', async () => {
  const key = 'live/late';
  const pub = publish(media, `${server.rtmp}/${key}`, { loop: true });
  children.push(pub);
  await waitFor(
    async () => {
      const j = await getJson<StreamList>(`${server.api}/api/v1/streams`);
      return j.streams.find((s) => s.key === key && s.publisher);
    },
    5000,
    'publisher',
  );
  await sleep(1500); // mid-GOP (1 s GOP)

  const viewer = httpFlv(`${server.http}/${key}.flv`);
  const t0 = Date.now();
  const first = await waitFor(() => viewer.videoFrames()[0], 3000, 'first video frame');
  const startMs = first.tag.atMs - t0;
  assert.equal(first.key, true, 'first frame is a key frame');
  assert.ok(startMs < 500, `first key frame after ${startMs} ms; the GOP cache should make it immediate`);
  assert.equal(viewer.status, 200);
  assert.equal(viewer.headers['content-type'], 'video/x-flv');
  assert.equal(viewer.headers['access-control-allow-origin'], '*');
  // The burst carries the cached GOP, then frames follow in real time.
  await sleep(1500);
  const frames = viewer.videoFrames();
  assert.ok(frames.length >= 40, `got ${frames.length} frames in ~1.5 s plus the cached GOP`);
  assert.equal(viewer.timestampRegression(), null);
  viewer.stop();

  // The same over RTMP, read by ffprobe: first video packet is a key frame.
  const p = await probe(`${server.rtmp}/${key}`, { packets: true, readSeconds: 1 });
  const video = p.streams.find((s) => s.codec_name === 'h264' && s.width === SPEC.width);
  assert.ok(video, 'an H.264 stream of the published size');
  const videoPackets = p.packets.filter((x) => x.stream_index === video.index);
  assert.ok(videoPackets.length >= 10, `${videoPackets.length} video packets in the first second`);
  assert.ok(videoPackets[0]!.flags.startsWith('K'), `first video packet flags ${videoPackets[0]!.flags}`);
});

test('a second publisher of the same key is refused and the first keeps going', async () => {
  const key = 'live/late';
  const viewer = httpFlv(`${server.http}/${key}.flv`);
  await waitFor(() => viewer.videoFrames().length > 0, 3000, 'viewer receiving');
  const second = publish(media, `${server.rtmp}/${key}`);
  children.push(second);
  const rc = await Promise.race([second.exited, sleep(10_000).then(() => 'timeout' as const)]);
  assert.notEqual(rc, 'timeout', 'second publisher should be refused promptly');
  assert.notEqual(rc, 0, 'second publisher must fail');
  assert.ok(
    server.logs.some((l) => l.msg === 'publish refused: stream already has a publisher' && l.stream === key),
    'refusal logged with the key',
  );
  const before = viewer.videoFrames().length;
  await sleep(1000);
  const during = viewer.videoFrames().length - before;
  assert.ok(during >= 20, `first publisher's viewer got ${during} frames in 1 s after the refusal`);
  assert.equal(viewer.closed, false);
  viewer.stop();
});
