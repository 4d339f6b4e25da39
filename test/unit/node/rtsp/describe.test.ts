import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSdp, parseSdp, trackCodec } from '../../../../libs/rtsp/index.ts';
import type { Stream } from '../../../../libs/stream/index.ts';
import {
  describeNow,
  sdpTracks,
  waitDescribable,
  type DescribedTracks,
} from '../../../../services/node/rtsp/describe.ts';
import {
  audioItem,
  videoItem,
  type AudioConfig,
  type VideoConfig,
} from '../../../../services/node/rtsp/flv-units.ts';
import { aacAudio, enhancedVideo, legacyVideo } from '../../mpegts/helpers.ts';
import { fixture } from './media.ts';

const h264Header = legacyVideo(7, true, 0, 0, fixture('h264-high-1920x1080.avcc'));
const h265Header = enhancedVideo('hvc1', true, 0, fixture('h265-main10-854x480.hvcc'));
const aacHeader = aacAudio(true, fixture('aac-stereo-22050.asc'));

const videoOf = (p: Buffer): VideoConfig => {
  const v = videoItem(p);
  assert.equal(v?.type, 'config');
  return (v as { config: VideoConfig }).config;
};
const audioOf = (p: Buffer): AudioConfig => {
  const a = audioItem(p);
  assert.equal(a?.type, 'config');
  return (a as { config: AudioConfig }).config;
};

const CASES: [string, DescribedTracks, { id: number; control: string; codec: string }[]][] = [
  ['nothing', { video: null, audio: null }, []],
  [
    'H.264 + AAC',
    { video: videoOf(h264Header), audio: audioOf(aacHeader) },
    [
      { id: 0, control: 'trackID=0', codec: 'h264' },
      { id: 1, control: 'trackID=1', codec: 'aac' },
    ],
  ],
  [
    'H.265 alone',
    { video: videoOf(h265Header), audio: null },
    [{ id: 0, control: 'trackID=0', codec: 'h265' }],
  ],
  [
    'AAC alone: still trackID=1 (its RTP is on channel 2)',
    { video: null, audio: audioOf(aacHeader) },
    [{ id: 1, control: 'trackID=1', codec: 'aac' }],
  ],
];

for (const [name, tracks, want] of CASES) {
  test(`sdpTracks, and the SDP round trip a publisher of it would announce: ${name}`, () => {
    const out = sdpTracks(tracks);
    assert.deepEqual(
      out.map((t) => ({ id: t.id, control: t.spec.control, codec: t.spec.codec.codec })),
      want,
    );
    const sdp = parseSdp(
      buildSdp({ sessionName: 'x', originAddress: '127.0.0.1', tracks: out.map((t) => t.spec) }),
    );
    assert.deepEqual(
      sdp.media.map((m) => m.control),
      want.map((w) => w.control),
    );
    sdp.media.forEach((m, i) => {
      const c = trackCodec(m);
      const spec = out[i]!.spec.codec;
      assert.equal(c.codec, spec.codec);
      if (c.codec === 'h264' && spec.codec === 'h264') {
        assert.deepEqual([c.sps, c.pps, c.packetizationMode, c.payloadType], [spec.sps, spec.pps, 1, 96]);
      } else if (c.codec === 'h265' && spec.codec === 'h265') {
        assert.deepEqual([c.vps, c.sps, c.pps, c.payloadType], [spec.vps, spec.sps, spec.pps, 96]);
      } else if (c.codec === 'aac' && spec.codec === 'aac') {
        assert.deepEqual(
          [c.config, c.clockRate, c.channels, c.sizeLength, c.indexLength, c.indexDeltaLength, c.payloadType],
          [tracks.audio!.record, 22_050, 2, 13, 3, 3, 97],
        );
      }
    });
  });
}

/** The slice of a Stream that describe.ts reads. */
function fakeStream(s: {
  video?: Buffer;
  audio?: Buffer;
  hasPublisher?: boolean;
}): Stream & { headers: typeof s } {
  const f = {
    headers: s,
    get hasPublisher() {
      return s.hasPublisher ?? true;
    },
    get codecHeaders() {
      return {
        video: s.video ? { payload: s.video } : null,
        audio: s.audio ? { payload: s.audio } : null,
      };
    },
  };
  return f as unknown as Stream & { headers: typeof s };
}

test("describeNow: what RTP can carry of the stream's headers; broken or foreign headers are left out", () => {
  assert.equal(describeNow(fakeStream({ video: h264Header })).video?.codec, 'h264');
  assert.deepEqual(describeNow(fakeStream({})), { video: null, audio: null });
  const odd = describeNow(
    fakeStream({ video: legacyVideo(7, true, 0, 0, Buffer.from([1, 2])), audio: Buffer.from([0x2f, 1]) }),
  );
  assert.deepEqual(odd, { video: null, audio: null });
});

test('waitDescribable: both tracks at once; null when gone or past the deadline', async () => {
  const both = await waitDescribable(
    fakeStream({ video: h264Header, audio: aacHeader }),
    performance.now() + 5_000,
    () => false,
  );
  assert.ok(both?.video && both.audio);
  assert.equal(
    await waitDescribable(fakeStream({ video: h264Header }), performance.now() + 5_000, () => true),
    null,
  );
  assert.equal(
    await waitDescribable(fakeStream({ hasPublisher: false }), performance.now() + 120, () => false),
    null,
  );
});

test('waitDescribable: one track gets the other a second to show up, then answers alone', async (t) => {
  let clock = 0;
  t.mock.method(performance, 'now', () => (clock += 200));
  const s = fakeStream({ audio: aacHeader });
  const got = await waitDescribable(s, Infinity, () => false);
  assert.equal(got?.video, null);
  assert.equal(got?.audio?.clockRate, 22_050);
});

test('waitDescribable: the second track arriving within the second is included', async () => {
  const s = fakeStream({ video: h264Header });
  setTimeout(() => (s.headers.audio = aacHeader), 120);
  const got = await waitDescribable(s, performance.now() + 5_000, () => false);
  assert.ok(got?.video && got.audio);
});
