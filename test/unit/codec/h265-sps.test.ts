import { test } from 'node:test';
import assert from 'node:assert/strict';
import { H265Nal, h265NalType, isH265Irap, parseH265Sps } from '../../../libs/codec/index.ts';
import type { H265Sps } from '../../../libs/codec/index.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { h265Parameters, pixFmt, probe } from './fixtures.ts';
import { writeH265Sps } from './synthetic.ts';
import type { H265SpsFields } from './synthetic.ts';

const isCode = (code: string) => (e: unknown) => e instanceof ProtocolError && e.code === code;

/** ffprobe's names (libavcodec/profiles.c) by general_profile_idc. */
const FFPROBE_PROFILES: Record<number, string> = { 1: 'Main', 2: 'Main 10', 4: 'Rext' };

type Row = [
  name: string,
  profileIdc: number,
  levelIdc: number,
  width: number,
  height: number,
  chromaFormatIdc: number,
  bitDepth: number,
  window: [left: number, right: number, top: number, bottom: number],
  maxSubLayers: number,
];

// Made by test/fixtures/codec/make.sh with libx265; the values agree with each .probe.json.
// prettier-ignore
const real: Row[] = [
  ['h265-main-1280x720',       1, 93, 1280, 720, 1, 8, [0, 0, 0, 0], 1],
  ['h265-main-1920x1080',      1, 120, 1920, 1080, 1, 8, [0, 0, 0, 0], 1],
  ['h265-main10-854x480',      2, 90, 854, 480, 1, 10, [0, 2, 0, 0], 1],
  ['h265-rext422-636x358',     4, 63, 636, 358, 2, 8, [0, 4, 0, 2], 1],
  ['h265-sublayers-1920x1080', 1, 120, 1920, 1080, 1, 8, [0, 0, 0, 0], 2],
];

for (const [name, profileIdc, levelIdc, width, height, chroma, depth, window, maxSubLayers] of real) {
  test(`parseH265Sps: ${name} (x265) matches ffprobe`, () => {
    const { sps, types } = h265Parameters(`${name}.hevc`);
    assert.deepEqual(types, [H265Nal.Vps, H265Nal.Sps, H265Nal.Pps, H265Nal.PrefixSei, H265Nal.IdrNLp]);
    const s = parseH265Sps(sps);
    assert.equal(s.generalProfileIdc, profileIdc);
    assert.equal(s.generalLevelIdc, levelIdc);
    assert.equal(s.width, width);
    assert.equal(s.height, height);
    assert.equal(s.chromaFormatIdc, chroma);
    assert.equal(s.bitDepthLuma, depth);
    assert.deepEqual(Object.values(s.conformanceWindow), window);
    assert.equal(s.maxSubLayers, maxSubLayers);
    assert.equal(s.bitDepthChroma, s.bitDepthLuma);
    assert.equal(s.generalProfileSpace, 0);
    assert.equal(s.generalTierFlag, 0);
    // The compatibility flag of the profile itself is set (flag j is bit 31 - j).
    assert.equal((s.generalProfileCompatibilityFlags >>> (31 - s.generalProfileIdc)) & 1, 1);
    assert.equal(s.generalConstraintIndicatorFlags.length, 6);
    assert.equal(s.generalConstraintIndicatorFlags[0]! & 0x80, 0x80, 'general_progressive_source_flag');

    const p = probe(`${name}.hevc`);
    assert.equal(p.codec_name, 'hevc');
    assert.equal(s.width, p.width);
    assert.equal(s.height, p.height);
    assert.equal(s.generalLevelIdc, p.level);
    assert.equal(FFPROBE_PROFILES[s.generalProfileIdc], p.profile);
    assert.equal(pixFmt(s.chromaFormatIdc, s.bitDepthLuma), p.pix_fmt);
  });
}

// Features x265 does not emit. writeH265Sps output was checked with ffmpeg's trace_headers.
const synthetic: [string, H265SpsFields, Partial<H265Sps>][] = [
  [
    'sub-layer profile and level present flags, 4:2:2 window',
    {
      maxSubLayersMinus1: 3,
      subLayers: [
        [true, true],
        [false, true],
        [true, false],
      ],
      chromaFormatIdc: 2,
      width: 640,
      height: 360,
      window: [1, 2, 3, 4],
      bitDepthLuma: 10,
      bitDepthChroma: 10,
    },
    {
      maxSubLayers: 4,
      generalProfileIdc: 1,
      generalLevelIdc: 93,
      width: 634,
      height: 353,
      conformanceWindow: { left: 2, right: 4, top: 3, bottom: 4 },
      bitDepthLuma: 10,
    },
  ],
  [
    'six sub-layers, all present',
    {
      maxSubLayersMinus1: 6,
      subLayers: Array<[boolean, boolean]>(6).fill([true, true]),
      width: 3840,
      height: 2160,
      levelIdc: 153,
      tierFlag: 1,
    },
    { maxSubLayers: 7, width: 3840, height: 2160, generalLevelIdc: 153, generalTierFlag: 1 },
  ],
  [
    '4:2:0 window in chroma units',
    { width: 1920, height: 1088, window: [0, 0, 0, 4] },
    { width: 1920, height: 1080, conformanceWindow: { left: 0, right: 0, top: 0, bottom: 8 } },
  ],
  [
    '4:4:4 window in luma samples',
    { chromaFormatIdc: 3, profileIdc: 4, width: 640, height: 368, window: [1, 1, 0, 8] },
    { width: 638, height: 360, chromaFormatIdc: 3 },
  ],
  [
    'separate colour planes: window in luma samples',
    { chromaFormatIdc: 3, separateColourPlane: true, width: 640, height: 368, window: [1, 1, 0, 8] },
    { width: 638, height: 360 },
  ],
  [
    'monochrome 12-bit',
    {
      chromaFormatIdc: 0,
      width: 100,
      height: 100,
      window: [1, 1, 1, 1],
      bitDepthLuma: 12,
      bitDepthChroma: 12,
    },
    { width: 98, height: 98, chromaFormatIdc: 0, bitDepthLuma: 12 },
  ],
];

for (const [name, fields, want] of synthetic) {
  test(`parseH265Sps: ${name}`, () => {
    const s = parseH265Sps(writeH265Sps(fields));
    for (const [k, v] of Object.entries(want)) assert.deepEqual(s[k as keyof H265Sps], v, k);
  });
}

const errors: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['one header byte', Buffer.from('42', 'hex')],
  ['not an SPS (a VPS)', Buffer.from('40010c01ffff', 'hex')],
  ['chroma_format_idc 5', writeH265Sps({ chromaFormatIdc: 5, width: 64, height: 64 })],
  ['window removes the picture', writeH265Sps({ width: 64, height: 64, window: [16, 16, 0, 0] })],
  ['bit depth 17', writeH265Sps({ width: 64, height: 64, bitDepthLuma: 17 })],
  ['sps_max_sub_layers_minus1 7', writeH265Sps({ maxSubLayersMinus1: 7, width: 64, height: 64 })],
];

for (const [name, nalu] of errors) {
  test(`parseH265Sps: ${name} -> CODEC_BAD_H265_SPS`, () => {
    assert.throws(() => parseH265Sps(nalu), isCode('CODEC_BAD_H265_SPS'));
  });
}

test('parseH265Sps: truncation inside the fields it reads -> CODEC_BAD_H265_SPS', () => {
  for (const [name] of real) {
    const { sps } = h265Parameters(`${name}.hevc`);
    // Everything up to the bit depths sits in the first 20 bytes of these SPSs.
    for (let len = 0; len < 16; len++) {
      assert.throws(
        () => parseH265Sps(sps.subarray(0, len)),
        isCode('CODEC_BAD_H265_SPS'),
        `${name} cut at ${len}`,
      );
    }
    for (let len = 16; len < sps.length; len++) {
      try {
        assert.equal(parseH265Sps(sps.subarray(0, len)).width, parseH265Sps(sps).width);
      } catch (e) {
        assert.ok(isCode('CODEC_BAD_H265_SPS')(e), `${name} cut at ${len}: ${String(e)}`);
      }
    }
  }
});

test('h265NalType and isH265Irap', () => {
  const table: [string, number, boolean][] = [
    ['4001', H265Nal.Vps, false],
    ['4201', H265Nal.Sps, false],
    ['4401', H265Nal.Pps, false],
    ['4601', H265Nal.Aud, false],
    ['4e01', H265Nal.PrefixSei, false],
    ['5001', H265Nal.SuffixSei, false],
    ['2001', H265Nal.BlaWLp, true],
    ['2401', H265Nal.BlaNLp, true],
    ['2601', H265Nal.IdrWRadl, true],
    ['2801', H265Nal.IdrNLp, true],
    ['2a01', H265Nal.Cra, true],
    ['0201', H265Nal.TrailR, false],
    ['1201', H265Nal.RaslR, false],
  ];
  for (const [hex, type, irap] of table) {
    assert.equal(h265NalType(Buffer.from(hex, 'hex')), type, hex);
    assert.equal(isH265Irap(type), irap, hex);
  }
  assert.equal(isH265Irap(23), true);
  assert.equal(isH265Irap(24), false);
  assert.throws(() => h265NalType(Buffer.from([0x26])), isCode('CODEC_BAD_NALU_HEADER'));
});
