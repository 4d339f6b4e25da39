import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
  server = await startSluice({ stream: { waitPublisherMs: 5000 } });
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
