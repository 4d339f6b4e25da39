import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildHevcConfig, parseH265Sps, parseHevcConfig } from '../../../libs/codec/index.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { fixture, h265Parameters } from './fixtures.ts';

const isBadHvcc = (e: unknown) => e instanceof ProtocolError && e.code === 'CODEC_BAD_HVCC';

/** Offsets of the three array headers in an ffmpeg hvcC with one VPS, SPS and PPS. */
function arrayHeaderOffsets(rec: Buffer): number[] {
  const offsets: number[] = [];
  let pos = 23;
  for (let i = 0; i < rec[22]!; i++) {
    offsets.push(pos);
    const count = rec.readUInt16BE(pos + 1);
    pos += 3;
    for (let j = 0; j < count; j++) pos += 2 + rec.readUInt16BE(pos);
  }
  return offsets;
}

// hvcC records written by ffmpeg 5.1's mp4 muxer (make.sh).
const records = ['h265-main-1280x720', 'h265-main10-854x480', 'h265-rext422-636x358'];

for (const name of records) {
  test(`parseHevcConfig: ${name}.hvcc from ffmpeg agrees with the SPS`, () => {
    const c = parseHevcConfig(fixture(`${name}.hvcc`));
    const { vps, sps, pps } = h265Parameters(`${name}.hevc`);
    assert.deepEqual(c.vps, [vps]);
    assert.deepEqual(c.sps, [sps]);
    assert.deepEqual(c.pps, [pps]);
    assert.deepEqual(c.sei, []);
    assert.equal(c.nalLengthSize, 4);
    const s = parseH265Sps(sps);
    assert.deepEqual(
      {
        generalProfileSpace: c.generalProfileSpace,
        generalTierFlag: c.generalTierFlag,
        generalProfileIdc: c.generalProfileIdc,
        generalProfileCompatibilityFlags: c.generalProfileCompatibilityFlags,
        generalConstraintIndicatorFlags: c.generalConstraintIndicatorFlags.toString('hex'),
        generalLevelIdc: c.generalLevelIdc,
        chromaFormatIdc: c.chromaFormatIdc,
        bitDepthLuma: c.bitDepthLuma,
        bitDepthChroma: c.bitDepthChroma,
        numTemporalLayers: c.numTemporalLayers,
        temporalIdNested: c.temporalIdNested,
      },
      {
        generalProfileSpace: s.generalProfileSpace,
        generalTierFlag: s.generalTierFlag,
        generalProfileIdc: s.generalProfileIdc,
        generalProfileCompatibilityFlags: s.generalProfileCompatibilityFlags,
        generalConstraintIndicatorFlags: s.generalConstraintIndicatorFlags.toString('hex'),
        generalLevelIdc: s.generalLevelIdc,
        chromaFormatIdc: s.chromaFormatIdc,
        bitDepthLuma: s.bitDepthLuma,
        bitDepthChroma: s.bitDepthChroma,
        numTemporalLayers: s.maxSubLayers,
        temporalIdNested: s.temporalIdNesting,
      },
    );
  });

  test(`buildHevcConfig: ${name} equals ffmpeg's record but for array_completeness`, () => {
    const { vps, sps, pps } = h265Parameters(`${name}.hevc`);
    const built = buildHevcConfig([vps], [sps], [pps]);
    // ffmpeg 5.1 writes array_completeness 0; we write 1 (every parameter set is in the record).
    const expected = Buffer.from(fixture(`${name}.hvcc`));
    for (const off of arrayHeaderOffsets(expected)) expected[off]! |= 0x80;
    assert.equal(built.toString('hex'), expected.toString('hex'));
  });
}

test('buildHevcConfig -> parseHevcConfig: temporal layers from an SPS with sub-layers', () => {
  const { vps, sps, pps } = h265Parameters('h265-sublayers-1920x1080.hevc');
  const c = parseHevcConfig(buildHevcConfig([vps], [sps], [pps]));
  assert.equal(c.numTemporalLayers, 2);
  assert.equal(c.temporalIdNested, false);
  assert.equal(c.generalLevelIdc, 120);
  assert.deepEqual(c.sps, [sps]);
});

test('buildHevcConfig -> parseHevcConfig: several parameter sets, empty VPS list', () => {
  const { sps, pps } = h265Parameters('h265-main-1920x1080.hevc');
  const c = parseHevcConfig(buildHevcConfig([], [sps, sps], [pps, pps, pps]));
  assert.deepEqual(c.vps, []);
  assert.equal(c.sps.length, 2);
  assert.equal(c.pps.length, 3);
});

test('parseHevcConfig: SEI arrays are kept, unknown arrays skipped, 2-byte lengths', () => {
  const { vps, sps, pps } = h265Parameters('h265-main-1280x720.hevc');
  const base = buildHevcConfig([vps], [sps], [pps]);
  const extra = Buffer.from(
    [
      '27' + '0001' + '0003' + '4e0105', // prefix SEI
      '3f' + '0001' + '0002' + '7e01', // unspecified type 63
      '28' + '0002' + '0002' + '5001' + '0003' + '500106', // suffix SEIs
    ].join(''),
    'hex',
  );
  const rec = Buffer.concat([base, extra]);
  rec[21] = (rec[21]! & 0xfc) | 1;
  rec[22] = 6;
  const c = parseHevcConfig(rec);
  assert.deepEqual(
    c.sei.map((b) => b.toString('hex')),
    ['4e0105', '5001', '500106'],
  );
  assert.equal(c.nalLengthSize, 2);
  assert.deepEqual(c.pps, [pps]);
});

const header = '0101600000009000000000005df000fcfdf8f800000f';
const errors: [string, string][] = [
  ['empty', ''],
  ['configurationVersion 0', '00' + header.slice(2) + '00'],
  ['fixed header truncated', header.slice(0, 30)],
  ['no arrays, so no SPS', header + '00'],
  ['lengthSizeMinusOne 2', header.slice(0, -2) + '0e' + '00'],
  ['array count overruns', header + '01' + 'a1000200024201'],
  ['NAL length overruns', header + '01' + 'a100010009420101'],
];

for (const [name, hex] of errors) {
  test(`parseHevcConfig: ${name} -> CODEC_BAD_HVCC`, () => {
    assert.throws(() => parseHevcConfig(Buffer.from(hex, 'hex')), isBadHvcc);
  });
}

test('parseHevcConfig: every truncation -> CODEC_BAD_HVCC', () => {
  for (const name of records) {
    const rec = fixture(`${name}.hvcc`);
    for (let len = 0; len < rec.length; len++) {
      assert.throws(() => parseHevcConfig(rec.subarray(0, len)), isBadHvcc, `${name} cut at ${len}`);
    }
  }
});

test('buildHevcConfig: needs a valid SPS', () => {
  assert.throws(() => buildHevcConfig([], [], []), isBadHvcc);
  assert.throws(
    () => buildHevcConfig([], [Buffer.from('4201', 'hex')], []),
    (e) => e instanceof ProtocolError && e.code === 'CODEC_BAD_H265_SPS',
  );
});
