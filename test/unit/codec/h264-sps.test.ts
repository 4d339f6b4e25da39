import { test } from 'node:test';
import assert from 'node:assert/strict';
import { H264Nal, h264NalType, parseH264Sps } from '../../../libs/codec/index.ts';
import type { H264Sps } from '../../../libs/codec/index.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { h264Parameters, pixFmt, probe, rate } from './fixtures.ts';
import { writeH264Sps } from './synthetic.ts';
import type { H264SpsFields } from './synthetic.ts';

const isCode = (code: string) => (e: unknown) => e instanceof ProtocolError && e.code === code;

/** ffprobe's profile names (libavcodec/profiles.c) for the profiles in the fixtures. */
function ffprobeProfile(s: H264Sps): string {
  const constrained = (s.constraintFlags & 0x40) !== 0;
  const names: Record<number, string> = {
    66: constrained ? 'Constrained Baseline' : 'Baseline',
    77: 'Main',
    100: 'High',
    122: 'High 4:2:2',
    244: 'High 4:4:4 Predictive',
  };
  return names[s.profileIdc] ?? `profile ${s.profileIdc}`;
}

type Crop = [left: number, right: number, top: number, bottom: number];
type Row = [
  name: string,
  profileIdc: number,
  levelIdc: number,
  width: number,
  height: number,
  chromaFormatIdc: number,
  bitDepth: number,
  frameMbsOnly: boolean,
  crop: Crop,
  fps: number,
];

// Made by test/fixtures/codec/make.sh; the values agree with the .probe.json beside each file.
// prettier-ignore
const real: Row[] = [
  ['h264-baseline-320x240',        66, 13, 320, 240, 1, 8, true, [0, 0, 0, 0], 25],
  ['h264-main-1280x720',           77, 31, 1280, 720, 1, 8, true, [0, 0, 0, 0], 30],
  ['h264-main-854x480',            77, 31, 854, 480, 1, 8, true, [0, 10, 0, 0], 30],
  ['h264-high-1920x1080',          100, 40, 1920, 1080, 1, 8, true, [0, 0, 0, 8], 25],
  ['h264-high422-10bit-1920x1080', 122, 40, 1920, 1080, 2, 10, true, [0, 0, 0, 8], 25],
  ['h264-high444-640x360',         244, 30, 640, 360, 3, 8, true, [0, 0, 0, 8], 30],
  ['h264-interlaced-1920x1080',    100, 40, 1920, 1080, 1, 8, false, [0, 0, 0, 8], 25],
];

for (const [name, profileIdc, levelIdc, width, height, chroma, depth, frameMbsOnly, crop, fps] of real) {
  test(`parseH264Sps: ${name} (x264) matches ffprobe`, () => {
    const { sps, types } = h264Parameters(`${name}.h264`);
    assert.deepEqual(types.slice(0, 2), [H264Nal.Sps, H264Nal.Pps]);
    assert.equal(types.at(-1), H264Nal.Idr);
    const s = parseH264Sps(sps);
    assert.equal(s.profileIdc, profileIdc);
    assert.equal(s.levelIdc, levelIdc);
    assert.equal(s.width, width);
    assert.equal(s.height, height);
    assert.equal(s.chromaFormatIdc, chroma);
    assert.equal(s.bitDepthLuma, depth);
    assert.equal(s.frameMbsOnly, frameMbsOnly);
    assert.deepEqual(Object.values(s.crop), crop);
    assert.equal(s.fps, fps);
    assert.equal(s.bitDepthChroma, s.bitDepthLuma);
    assert.equal(s.spsId, 0);

    const p = probe(`${name}.h264`);
    assert.equal(p.codec_name, 'h264');
    assert.equal(s.width, p.width);
    assert.equal(s.height, p.height);
    assert.equal(s.levelIdc, p.level);
    assert.equal(ffprobeProfile(s), p.profile);
    assert.equal(pixFmt(s.chromaFormatIdc, s.bitDepthLuma), p.pix_fmt);
    assert.equal(s.fps, rate(p.r_frame_rate));
    assert.equal(s.frameMbsOnly, p.field_order === 'progressive');
  });
}

// Features x264 never puts in an SPS. writeH264Sps output was checked with ffmpeg's trace_headers.
const SCALING_444 = [
  [8, ...Array<number>(15).fill(0)], // flat 16
  [-8], // nextScale 0 at j = 0: use the default list
  null,
  [4, 4, -16], // ends early: the rest repeat the last scale
  null,
  [127, -128, -7], // extreme deltas wrap mod 256
  Array<number>(64).fill(1), // a full 8x8 list
  [-8],
  null,
  [3, -11],
  [-8],
  null,
];

const synthetic: [string, H264SpsFields, Partial<H264Sps>][] = [
  [
    '4:4:4 separate planes, 12 scaling lists, poc type 1, field crop, full VUI at 29.97',
    {
      profileIdc: 244,
      chromaFormatIdc: 3,
      separateColourPlane: true,
      bitDepthLuma: 10,
      bitDepthChroma: 12,
      scalingLists: SCALING_444,
      pocType: 1,
      pocCycle: [1, -2, 3],
      widthMbs: 80,
      heightMapUnits: 23,
      frameMbsOnly: false,
      crop: [1, 2, 3, 4],
      vui: { sar: [4, 3], colour: true, chromaLoc: true, timing: [1001, 60000] },
    },
    // ChromaArrayType 0: CropUnitX 1, CropUnitY 2 (fields).
    {
      width: 1277,
      height: 722,
      crop: { left: 1, right: 2, top: 6, bottom: 8 },
      bitDepthLuma: 10,
      bitDepthChroma: 12,
      chromaFormatIdc: 3,
      fps: 30000 / 1001,
    },
  ],
  [
    '4:2:0 high with 8 scaling lists',
    {
      profileIdc: 100,
      scalingLists: SCALING_444.slice(0, 8),
      widthMbs: 40,
      heightMapUnits: 23,
      crop: [0, 0, 0, 4],
    },
    { width: 640, height: 360, crop: { left: 0, right: 0, top: 0, bottom: 8 } },
  ],
  [
    '4:2:2 interlaced: CropUnitY = SubHeightC * 2',
    {
      profileIdc: 122,
      chromaFormatIdc: 2,
      widthMbs: 45,
      heightMapUnits: 18,
      frameMbsOnly: false,
      crop: [1, 1, 1, 2],
    },
    { width: 716, height: 570, crop: { left: 2, right: 2, top: 2, bottom: 4 }, frameMbsOnly: false },
  ],
  [
    '4:4:4 progressive crop in luma samples',
    { profileIdc: 244, chromaFormatIdc: 3, widthMbs: 20, heightMapUnits: 15, crop: [1, 2, 3, 4] },
    { width: 317, height: 233, crop: { left: 1, right: 2, top: 3, bottom: 4 } },
  ],
  [
    'monochrome high',
    { profileIdc: 100, chromaFormatIdc: 0, widthMbs: 20, heightMapUnits: 15, crop: [1, 1, 1, 1] },
    { width: 318, height: 238, chromaFormatIdc: 0 },
  ],
  [
    'extended profile, poc type 2, VUI without timing',
    { profileIdc: 88, pocType: 2, widthMbs: 11, heightMapUnits: 9, vui: { sar: [1, 1] } },
    { width: 176, height: 144, profileIdc: 88, chromaFormatIdc: 1, bitDepthLuma: 8 },
  ],
  [
    'VUI cut short keeps the picture size and drops fps',
    { profileIdc: 66, widthMbs: 20, heightMapUnits: 15, vui: { colour: true, timing: [1, 50] }, cutBytes: 8 },
    { width: 320, height: 240 },
  ],
  [
    'non-zero sps id and constraint flags',
    { profileIdc: 77, constraintFlags: 0x5c, levelIdc: 52, spsId: 31, widthMbs: 240, heightMapUnits: 135 },
    { width: 3840, height: 2160, constraintFlags: 0x5c, levelIdc: 52, spsId: 31 },
  ],
];

for (const [name, fields, want] of synthetic) {
  test(`parseH264Sps: ${name}`, () => {
    const s = parseH264Sps(writeH264Sps(fields));
    for (const [k, v] of Object.entries(want)) assert.deepEqual(s[k as keyof H264Sps], v, k);
    if (!('fps' in want)) assert.equal(s.fps, undefined);
  });
}

const errors: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['not an SPS (a PPS)', Buffer.from('68ebe3cb22c0', 'hex')],
  ['header only', Buffer.from('67', 'hex')],
  [
    'chroma_format_idc 4',
    writeH264Sps({ profileIdc: 100, chromaFormatIdc: 4, widthMbs: 1, heightMapUnits: 1 }),
  ],
  ['pic_order_cnt_type 3', writeH264Sps({ profileIdc: 66, pocType: 3 as 2, widthMbs: 1, heightMapUnits: 1 })],
  ['bit depth 15', writeH264Sps({ profileIdc: 110, bitDepthLuma: 15, widthMbs: 1, heightMapUnits: 1 })],
  [
    'crop removes the picture',
    writeH264Sps({ profileIdc: 66, widthMbs: 1, heightMapUnits: 1, crop: [4, 4, 0, 0] }),
  ],
  [
    'delta_scale out of range',
    writeH264Sps({ profileIdc: 100, scalingLists: [[200]], widthMbs: 1, heightMapUnits: 1 }),
  ],
];

for (const [name, nalu] of errors) {
  test(`parseH264Sps: ${name} -> CODEC_BAD_H264_SPS`, () => {
    assert.throws(() => parseH264Sps(nalu), isCode('CODEC_BAD_H264_SPS'));
  });
}

test('parseH264Sps: every truncation either fails with CODEC_BAD_H264_SPS or lost only VUI fields', () => {
  for (const [name] of real) {
    const { sps } = h264Parameters(`${name}.h264`);
    const full = parseH264Sps(sps);
    let failures = 0;
    for (let len = 0; len < sps.length; len++) {
      try {
        const s = parseH264Sps(sps.subarray(0, len));
        assert.equal(s.width, full.width, `${name} cut at ${len}`);
        assert.equal(s.height, full.height, `${name} cut at ${len}`);
      } catch (e) {
        assert.ok(isCode('CODEC_BAD_H264_SPS')(e), `${name} cut at ${len}: ${String(e)}`);
        failures++;
      }
    }
    assert.ok(failures >= 5, name);
  }
});

test('h264NalType reads the low 5 bits and rejects an empty unit', () => {
  assert.equal(h264NalType(Buffer.from([0x67])), H264Nal.Sps);
  assert.equal(h264NalType(Buffer.from([0x65, 0x88])), H264Nal.Idr);
  assert.equal(h264NalType(Buffer.from([0x09])), H264Nal.Aud);
  assert.equal(h264NalType(Buffer.from([0x41])), H264Nal.NonIdr);
  assert.throws(() => h264NalType(Buffer.alloc(0)), isCode('CODEC_BAD_NALU_HEADER'));
});
