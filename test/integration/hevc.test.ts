import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { nalusToAnnexB, parseH265Sps, parseHevcConfig, splitLengthPrefixed } from '../../libs/codec/index.ts';
import { parseVideoTag } from '../../libs/flv/index.ts';
import { RtmpClient } from '../../libs/rtmp/client-connection.ts';
import { MessageType, type RtmpMessage } from '../../libs/rtmp/message-types.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { hevcVideoTags, makeHevcSource, type HevcSource } from './helpers/hevc-source.ts';
import { getJson, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';
import { ccBreaks, httpBytes, tsPackets } from './helpers/ts-client.ts';

// ffmpeg 5.1 (Debian 12) cannot put HEVC in FLV, so the test publishes with Sluice's own RTMP
// client, framing x265 output both ways encoders do: legacy codec id 12 and Enhanced RTMP 'hvc1'.
const run = promisify(execFile);
const FRAMES = 50;
const dir = mkdtempSync(join(tmpdir(), 'sluice-hevc-'));
let server: SluiceProcess;
let source: HevcSource;
const clients: RtmpClient[] = [];

before(async () => {
  source = await makeHevcSource(dir, FRAMES);
  assert.equal(source.accessUnits.length, FRAMES);
  server = await startSluice({ stream: { waitPublisherMs: 5000 }, hls: { targetMs: 1000 } });
});

after(async () => {
  for (const c of clients) c.close();
  await server?.stop();
});

for (const framing of ['legacy', 'enhanced'] as const) {
  test(`H.265 (${framing === 'legacy' ? 'codec id 12' : 'Enhanced RTMP hvc1'}) passes through to RTMP and HTTP-FLV viewers`, async () => {
    const key = `live/hevc-${framing}`;
    const url = `${server.rtmp}/${key}`;
    const player = await RtmpClient.connect(url);
    clients.push(player);
    const got: RtmpMessage[] = [];
    player.onMedia = (m) => {
      if (m.typeId === MessageType.Video) got.push(m);
    };
    const playing = player.play();
    const flv = httpFlv(`${server.http}/${key}.flv`);
    await waitFor(
      async () => {
        const j = await getJson<{ streams: { key: string; subscribers: number }[] }>(
          `${server.api}/api/v1/streams`,
        );
        return j.streams.find((s) => s.key === key)?.subscribers === 2;
      },
      5000,
      'viewers waiting',
    );

    const pub = await RtmpClient.connect(url);
    clients.push(pub);
    await pub.publish();
    await playing;
    const sent = hevcVideoTags(source, framing);
    sent.forEach((tag, i) => pub.sendMedia(MessageType.Video, Math.max(0, i - 1) * 40, tag));
    await waitFor(
      () => got.length === sent.length && flv.videoTags().length === sent.length,
      10_000,
      'all frames at both viewers',
    );

    // Bit-exact pass-through, in order, to both kinds of viewer.
    assert.deepEqual(
      got.map((m) => m.payload.toString('hex')),
      sent.map((b) => b.toString('hex')),
    );
    assert.deepEqual(
      flv.videoTags().map((t) => t.body.toString('hex')),
      sent.map((b) => b.toString('hex')),
    );

    // And what arrived decodes: rebuild Annex-B from the HTTP-FLV tags and let ffprobe count frames.
    const infos = flv.videoTags().map((t) => parseVideoTag(t.body));
    assert.equal(infos[0]!.codec, 'hevc');
    assert.equal(infos[0]!.isSequenceHeader, true);
    assert.equal(infos[1]!.isKeyFrame, true);
    const cfg = parseHevcConfig(infos[0]!.data);
    const s = parseH265Sps(cfg.sps[0]!);
    assert.deepEqual([s.width, s.height], [320, 240]);
    const nalus = [
      ...cfg.vps,
      ...cfg.sps,
      ...cfg.pps,
      ...infos.slice(1).flatMap((i) => splitLengthPrefixed(i.data, cfg.nalLengthSize)),
    ];
    const out = join(dir, `${framing}.h265`);
    writeFileSync(out, nalusToAnnexB(nalus));
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-count_frames',
      '-show_streams',
      '-of',
      'json',
      out,
    ]);
    const st = (
      JSON.parse(stdout) as {
        streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[];
      }
    ).streams[0]!;
    assert.deepEqual(
      [st.codec_name, st.width, st.height, Number(st.nb_read_frames)],
      ['hevc', 320, 240, FRAMES],
    );
    flv.stop();
    pub.close();
    player.close();
  });
}

async function countFrames(file: string): Promise<{ codec: string; frames: number; width: number }> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-select_streams',
    'v',
    '-show_streams',
    '-of',
    'json',
    file,
  ]);
  const st = (
    JSON.parse(stdout) as { streams: { codec_name: string; nb_read_frames: string; width: number }[] }
  ).streams[0]!;
  return { codec: st.codec_name, frames: Number(st.nb_read_frames), width: st.width };
}

test('H.265 (codec id 12) comes back as HEVC over HTTP-TS and in HLS segments', async () => {
  const key = 'live/hevc-ts';
  const url = `${server.rtmp}/${key}`;
  const ts = httpBytes(`${server.http}/${key}.ts`);
  await waitFor(
    async () => {
      const j = await getJson<{ streams: { key: string; subscribers: number }[] }>(
        `${server.api}/api/v1/streams`,
      );
      return j.streams.find((s) => s.key === key)?.subscribers === 1;
    },
    5000,
    'the TS viewer waiting',
  );
  const pub = await RtmpClient.connect(url);
  clients.push(pub);
  await pub.publish();
  const sent = hevcVideoTags(source, 'legacy');
  sent.forEach((tag, i) => pub.sendMedia(MessageType.Video, Math.max(0, i - 1) * 40, tag));

  // HLS: the key frame at 1 s closes the first segment (target 1 s).
  const pl = await fetch(`${server.http}/${key}.m3u8`);
  assert.equal(pl.status, 200);
  const uri = (await pl.text()).split('\n').find((l) => l.endsWith('.ts'))!;
  const seg = Buffer.from(await (await fetch(new URL(uri, pl.url))).arrayBuffer());
  const segFile = join(dir, 'hevc-seg.ts');
  writeFileSync(segFile, seg);
  assert.deepEqual(await countFrames(segFile), { codec: 'hevc', frames: 25, width: 320 });
  const segDecode = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', segFile, '-f', 'null', '-']);
  assert.equal(segDecode.stderr.trim(), '');

  // HTTP-TS: every frame, decodable. (The last frame's PES ends when the stream does: read until
  // the publisher has gone and the server closed the response.)
  pub.close();
  await ts.whenClosed();
  const bytes = ts.bytes();
  const tsFile = join(dir, 'hevc.ts');
  writeFileSync(tsFile, bytes.subarray(0, bytes.length - (bytes.length % 188)));
  assert.deepEqual(ccBreaks(tsPackets(readFileSync(tsFile))), []);
  const st = await countFrames(tsFile);
  assert.equal(st.codec, 'hevc');
  assert.ok(st.frames >= FRAMES - 1, `${st.frames} of ${FRAMES} frames over HTTP-TS`);
  const decode = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', tsFile, '-f', 'null', '-']);
  assert.equal(decode.stderr.trim(), '');
});
