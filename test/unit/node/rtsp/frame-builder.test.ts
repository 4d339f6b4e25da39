import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseAvcConfig,
  parseHevcConfig,
  splitAnnexB,
  splitLengthPrefixed,
} from '../../../../libs/codec/index.ts';
import { parseVideoTag } from '../../../../libs/flv/index.ts';
import { isProtocolError } from '../../../../libs/errors/protocol-error.ts';
import { MediaKind } from '../../../../libs/stream/index.ts';
import { AudioFrameBuilder, VideoFrameBuilder } from '../../../../services/node/rtsp/frame-builder.ts';
import { fixture, nalType } from './media.ts';

const h264 = splitAnnexB(fixture('h264-baseline-320x240.h264'));
const [sps264, pps264] = [
  h264.find((n) => nalType('h264', n) === 7)!,
  h264.find((n) => nalType('h264', n) === 8)!,
];
const idr264 = h264.find((n) => nalType('h264', n) === 5)!;
const h265 = splitAnnexB(fixture('h265-main-1280x720.hevc'));
const [vps265, sps265, pps265] = [32, 33, 34].map((t) => h265.find((n) => nalType('h265', n) === t)!) as [
  Buffer,
  Buffer,
  Buffer,
];
const idr265 = h265.find((n) => nalType('h265', n) >= 16 && nalType('h265', n) <= 21)!;
const aud264 = Buffer.from([0x09, 0xf0]);
const aud265 = Buffer.from([0x46, 0x01, 0x50]);
const p264 = Buffer.from([0x41, 0x9a, 0x02]);

const nalusOf = (payload: Buffer): Buffer[] => splitLengthPrefixed(parseVideoTag(payload).data, 4);

test('H.264: a sequence header (legacy FLV, AVC record) first, then the frame without AUDs', () => {
  const b = new VideoFrameBuilder('h264', {});
  const out = b.frames([aud264, sps264, pps264, idr264], 40, true);
  assert.deepEqual(
    out.map((f) => [f.kind, f.timestampMs, f.isSequenceHeader, f.isKeyFrame]),
    [
      [MediaKind.Video, 40, true, false],
      [MediaKind.Video, 40, false, true],
    ],
  );
  assert.deepEqual([...out[0]!.payload.subarray(0, 5)], [0x17, 0, 0, 0, 0]);
  const rec = parseAvcConfig(out[0]!.payload.subarray(5));
  assert.deepEqual([rec.sps, rec.pps], [[sps264], [pps264]]);
  assert.deepEqual([...out[1]!.payload.subarray(0, 5)], [0x17, 1, 0, 0, 0]);
  assert.deepEqual(nalusOf(out[1]!.payload), [sps264, pps264, idr264]);
  const p = b.frames([aud264, p264], 80, false);
  assert.equal(p.length, 1, 'same parameter sets: no new header');
  assert.deepEqual([...p[0]!.payload.subarray(0, 2)], [0x27, 1]);
  assert.deepEqual(nalusOf(p[0]!.payload), [p264]);
});

test('H.265: Enhanced RTMP hvc1 headers (sequence start without CTS, coded frames with CTS 0)', () => {
  const b = new VideoFrameBuilder('h265', { vps: vps265, sps: sps265, pps: pps265 });
  const out = b.frames([aud265, idr265], 0, true);
  assert.equal(out.length, 2);
  assert.deepEqual([...out[0]!.payload.subarray(0, 5)], [0x90, 0x68, 0x76, 0x63, 0x31]);
  const rec = parseHevcConfig(out[0]!.payload.subarray(5));
  assert.deepEqual([rec.vps, rec.sps, rec.pps], [[vps265], [sps265], [pps265]]);
  assert.deepEqual([...out[1]!.payload.subarray(0, 8)], [0x91, 0x68, 0x76, 0x63, 0x31, 0, 0, 0]);
  const v = parseVideoTag(out[1]!.payload);
  assert.equal(v.codec, 'hevc');
  assert.equal(v.isKeyFrame, true);
  assert.deepEqual(splitLengthPrefixed(v.data, 4), [idr265]);
  const p = b.frames([Buffer.from([0x02, 0x01, 0xaa])], 33, false);
  assert.deepEqual([...p[0]!.payload.subarray(0, 1)], [0xa1]);
});

const WAITS: [string, VideoFrameBuilder, Buffer[]][] = [
  ['H.264 without any SPS', new VideoFrameBuilder('h264', { pps: pps264 }), [idr264]],
  ['H.264 without any PPS', new VideoFrameBuilder('h264', {}), [sps264, idr264]],
  ['H.265 without a VPS', new VideoFrameBuilder('h265', { sps: sps265, pps: pps265 }), [idr265]],
];

for (const [name, b, nalus] of WAITS) {
  test(`nothing until the parameter sets are known: ${name}`, () => {
    assert.deepEqual(b.frames(nalus, 0, true), []);
  });
}

test('new parameter sets in band: a new sequence header before the frame; the same again: none', () => {
  const b = new VideoFrameBuilder('h264', { sps: sps264, pps: pps264 });
  assert.equal(b.frames([idr264], 0, true).length, 2);
  const pps2 = Buffer.from([0x68, 0xce, 0x38, 0x81]);
  const out = b.frames([pps2, idr264], 40, true);
  assert.deepEqual(
    out.map((f) => f.isSequenceHeader),
    [true, false],
  );
  assert.deepEqual(parseAvcConfig(out[0]!.payload.subarray(5)).pps, [pps2]);
  assert.equal(b.frames([pps2, idr264], 80, true).length, 1);
});

test('an access unit of only parameter sets: the header, no frame without a picture', () => {
  const b = new VideoFrameBuilder('h264', {});
  const out = b.frames([aud264, sps264, pps264], 0, true);
  assert.deepEqual(
    out.map((f) => f.isSequenceHeader),
    [true],
  );
  assert.deepEqual(b.frames([aud264], 40, false), []);
});

test('parameter sets that cannot form a record raise a ProtocolError', () => {
  const b = new VideoFrameBuilder('h264', {});
  assert.throws(
    () => b.frames([Buffer.from([0x67]), pps264, idr264], 0, true),
    (e) => isProtocolError(e),
  );
});

test('AAC: the AudioSpecificConfig as the sequence header once, then raw frames', () => {
  const asc = fixture('aac-stereo-48000.asc');
  const b = new AudioFrameBuilder(asc);
  const au = Buffer.from([0x21, 0x10, 0x05]);
  const first = b.frames(au, 10);
  assert.deepEqual(
    first.map((f) => [f.kind, f.timestampMs, f.isSequenceHeader, f.isKeyFrame, f.payload.toString('hex')]),
    [
      [MediaKind.Audio, 10, true, false, `af00${asc.toString('hex')}`],
      [MediaKind.Audio, 10, false, false, 'af00'.replace('00', '01') + au.toString('hex')],
    ],
  );
  assert.deepEqual(
    b.frames(au, 31).map((f) => f.isSequenceHeader),
    [false],
  );
});
