import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isProtocolError } from '../../../../libs/errors/protocol-error.ts';
import {
  audioItem,
  frameNalus,
  hasSps,
  videoItem,
  type VideoConfig,
} from '../../../../services/node/rtsp/flv-units.ts';
import { aacAudio, enhancedVideo, legacyVideo } from '../../mpegts/helpers.ts';
import { fixture } from './media.ts';

const avcc = fixture('h264-baseline-320x240.avcc');
const hvcc = fixture('h265-main-1280x720.hvcc');
const lp = (...nalus: Buffer[]): Buffer =>
  Buffer.concat(nalus.flatMap((n) => [Buffer.from([0, 0, 0, n.length]), n]));
const idr = Buffer.from([0x65, 1, 2]);

test('videoItem: sequence headers become configurations', () => {
  const a = videoItem(legacyVideo(7, true, 0, 0, avcc));
  assert.equal(a?.type, 'config');
  if (a?.type === 'config') {
    assert.equal(a.config.codec, 'h264');
    assert.equal(a.config.nalLengthSize, 4);
    assert.deepEqual([a.config.vps.length, a.config.sps.length, a.config.pps.length], [0, 1, 1]);
    assert.deepEqual(a.config.record, avcc);
  }
  const h = videoItem(enhancedVideo('hvc1', true, 0, hvcc));
  assert.equal(h?.type, 'config');
  if (h?.type === 'config') {
    assert.equal(h.config.codec, 'h265');
    assert.deepEqual([h.config.vps.length, h.config.sps.length, h.config.pps.length], [1, 1, 1]);
  }
});

const FRAMES: [string, Buffer, { codec: string; compositionMs: number; keyFrame: boolean } | null][] = [
  [
    'legacy AVC key frame',
    legacyVideo(7, true, 1, 0, lp(idr)),
    { codec: 'h264', compositionMs: 0, keyFrame: true },
  ],
  [
    'legacy AVC inter frame with CTS 80',
    legacyVideo(7, false, 1, 80, lp(idr)),
    { codec: 'h264', compositionMs: 80, keyFrame: false },
  ],
  [
    'legacy AVC negative CTS',
    legacyVideo(7, false, 1, -40, lp(idr)),
    { codec: 'h264', compositionMs: -40, keyFrame: false },
  ],
  [
    'legacy HEVC (codec 12)',
    legacyVideo(12, true, 1, 0, lp(idr)),
    { codec: 'h265', compositionMs: 0, keyFrame: true },
  ],
  [
    'Enhanced hvc1 coded frames',
    enhancedVideo('hvc1', true, 1, lp(idr), 33),
    { codec: 'h265', compositionMs: 33, keyFrame: true },
  ],
  [
    'Enhanced hvc1 coded frames X (CTS 0)',
    enhancedVideo('hvc1', false, 3, lp(idr)),
    { codec: 'h265', compositionMs: 0, keyFrame: false },
  ],
  ['AVC end of sequence', legacyVideo(7, true, 2, 0, Buffer.alloc(0)), null],
  ['Enhanced sequence end', enhancedVideo('hvc1', true, 2, Buffer.alloc(0)), null],
  ['Sorenson H.263 (codec 2)', Buffer.from([0x22, 0, 0]), null],
  ['Enhanced AV1', enhancedVideo('av01', true, 1, Buffer.from([1]), 0), null],
];

for (const [name, payload, want] of FRAMES) {
  test(`videoItem: ${name}`, () => {
    const v = videoItem(payload);
    if (want === null) return assert.equal(v, null);
    assert.equal(v?.type, 'frame');
    if (v?.type !== 'frame') return;
    assert.deepEqual({ codec: v.codec, compositionMs: v.compositionMs, keyFrame: v.keyFrame }, want);
    assert.deepEqual(v.data, lp(idr));
  });
}

test('videoItem: a broken record is a ProtocolError', () => {
  assert.throws(
    () => videoItem(legacyVideo(7, true, 0, 0, Buffer.from([1, 0x64]))),
    (e) => isProtocolError(e),
  );
});

const config = (codec: 'h264' | 'h265', nalLengthSize: 1 | 2 | 4 = 4): VideoConfig => ({
  codec,
  nalLengthSize,
  vps: [],
  sps: [],
  pps: [],
  record: Buffer.alloc(0),
});

const NALUS: [string, VideoConfig, Buffer, number[]][] = [
  [
    'H.264: AUD dropped',
    config('h264'),
    lp(Buffer.from([9, 0xf0]), Buffer.from([0x67, 1]), idr),
    [0x67, 0x65],
  ],
  [
    'H.264: empty NAL units dropped',
    config('h264'),
    Buffer.concat([lp(idr), Buffer.from([0, 0, 0, 0])]),
    [0x65],
  ],
  ['H.264: 2-byte lengths', config('h264', 2), Buffer.from([0, 2, 0x41, 7, 0, 2, 9, 0x10]), [0x41]],
  [
    'H.265: AUD (35) dropped, VPS kept',
    config('h265'),
    lp(Buffer.from([0x46, 1, 0x50]), Buffer.from([0x40, 1]), Buffer.from([0x26, 1])),
    [0x40, 0x26],
  ],
];

for (const [name, c, data, firstBytes] of NALUS) {
  test(`frameNalus: ${name}`, () => {
    assert.deepEqual(
      frameNalus(c, data).map((n) => n[0]),
      firstBytes,
    );
  });
}

test('hasSps', () => {
  assert.equal(hasSps('h264', [Buffer.from([0x67])]), true);
  assert.equal(hasSps('h264', [Buffer.from([0x68]), idr]), false);
  assert.equal(hasSps('h265', [Buffer.from([0x42, 1])]), true);
  assert.equal(hasSps('h265', [Buffer.from([0x40, 1])]), false);
});

test('audioItem: AAC configuration (clock = sample rate), frames, and what RTP does not carry', () => {
  const asc = fixture('aac-mono-44100.asc');
  const c = audioItem(aacAudio(true, asc));
  assert.equal(c?.type, 'config');
  if (c?.type === 'config')
    assert.deepEqual([c.config.clockRate, c.config.channels, c.config.record], [44_100, 1, asc]);
  // channelConfiguration 0 (channels in a PCE): announced as stereo.
  const c0 = audioItem(aacAudio(true, Buffer.from([0x11, 0x80])));
  assert.equal(c0?.type === 'config' && c0.config.channels, 2);
  assert.deepEqual(audioItem(aacAudio(false, Buffer.from([1, 2]))), {
    type: 'frame',
    data: Buffer.from([1, 2]),
  });
  assert.equal(audioItem(aacAudio(false, Buffer.alloc(0))), null);
  assert.equal(audioItem(Buffer.from([0x2f, 0xff, 0xfb])), null, 'MP3');
  assert.throws(
    () => audioItem(aacAudio(true, Buffer.from([0xf8]))),
    (e) => isProtocolError(e),
  );
});
