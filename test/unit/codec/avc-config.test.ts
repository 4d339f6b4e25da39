import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAvcConfig, parseAvcConfig, parseH264Sps } from '../../../libs/codec/index.ts';
import type { AvcConfig } from '../../../libs/codec/index.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { fixture, h264Parameters } from './fixtures.ts';

const isBadAvcc = (e: unknown) => e instanceof ProtocolError && e.code === 'CODEC_BAD_AVCC';

type Trailer = Pick<AvcConfig, 'chromaFormat' | 'bitDepthLuma' | 'bitDepthChroma'> | undefined;

// avcC records written by ffmpeg's mp4 muxer (make.sh); high profiles carry the trailer.
const records: [string, { profileIdc: number; levelIdc: number; trailer: Trailer }][] = [
  ['h264-baseline-320x240', { profileIdc: 66, levelIdc: 13, trailer: undefined }],
  [
    'h264-high-1920x1080',
    { profileIdc: 100, levelIdc: 40, trailer: { chromaFormat: 1, bitDepthLuma: 8, bitDepthChroma: 8 } },
  ],
  [
    'h264-high422-10bit-1920x1080',
    { profileIdc: 122, levelIdc: 40, trailer: { chromaFormat: 2, bitDepthLuma: 10, bitDepthChroma: 10 } },
  ],
];

for (const [name, want] of records) {
  test(`parseAvcConfig: ${name}.avcc from ffmpeg`, () => {
    const c = parseAvcConfig(fixture(`${name}.avcc`));
    const { sps, pps } = h264Parameters(`${name}.h264`);
    assert.equal(c.profileIdc, want.profileIdc);
    assert.equal(c.levelIdc, want.levelIdc);
    assert.equal(c.profileCompatibility, sps[2]);
    assert.equal(c.nalLengthSize, 4);
    assert.deepEqual(c.sps, [sps]);
    assert.deepEqual(c.pps, [pps]);
    if (want.trailer === undefined) {
      assert.equal(c.chromaFormat, undefined);
      assert.equal(c.spsExt, undefined);
    } else {
      assert.deepEqual(
        { chromaFormat: c.chromaFormat, bitDepthLuma: c.bitDepthLuma, bitDepthChroma: c.bitDepthChroma },
        want.trailer,
      );
      assert.deepEqual(c.spsExt, []);
    }
  });

  test(`buildAvcConfig: ${name} is byte-identical to ffmpeg's record`, () => {
    const { sps, pps } = h264Parameters(`${name}.h264`);
    assert.equal(buildAvcConfig([sps], [pps]).toString('hex'), fixture(`${name}.avcc`).toString('hex'));
  });
}

const roundTrip = [
  'h264-main-1280x720',
  'h264-main-854x480',
  'h264-high444-640x360',
  'h264-interlaced-1920x1080',
];

for (const name of roundTrip) {
  test(`buildAvcConfig -> parseAvcConfig round trip: ${name}`, () => {
    const { sps, pps } = h264Parameters(`${name}.h264`);
    const c = parseAvcConfig(buildAvcConfig([sps, sps], [pps]));
    const s = parseH264Sps(sps);
    assert.equal(c.profileIdc, s.profileIdc);
    assert.equal(c.profileCompatibility, s.constraintFlags);
    assert.equal(c.levelIdc, s.levelIdc);
    assert.deepEqual(c.sps, [sps, sps]);
    assert.deepEqual(c.pps, [pps]);
    if (s.profileIdc === 100) assert.equal(c.chromaFormat, s.chromaFormatIdc);
  });
}

test('parseAvcConfig: nalLengthSize 1 and 2; 3 is refused', () => {
  const rec = Buffer.from(fixture('h264-baseline-320x240.avcc'));
  rec[4] = 0xfc;
  assert.equal(parseAvcConfig(rec).nalLengthSize, 1);
  rec[4] = 0xfd;
  assert.equal(parseAvcConfig(rec).nalLengthSize, 2);
  rec[4] = 0xfe;
  assert.throws(() => parseAvcConfig(rec), isBadAvcc);
});

test('parseAvcConfig: trailer with SPS extensions', () => {
  const base = fixture('h264-high-1920x1080.avcc');
  const rec = Buffer.concat([base.subarray(0, base.length - 1), Buffer.from('02000268aa00016d', 'hex')]);
  assert.deepEqual(
    parseAvcConfig(rec).spsExt?.map((b) => b.toString('hex')),
    ['68aa', '6d'],
  );
});

test('parseAvcConfig: a missing or malformed trailer is tolerated', () => {
  const rec = fixture('h264-high-1920x1080.avcc');
  const trailerStart = rec.length - 4;
  for (let len = trailerStart; len < rec.length; len++) {
    const c = parseAvcConfig(rec.subarray(0, len));
    assert.equal(c.sps.length, 1);
    assert.equal(c.chromaFormat, undefined);
  }
  const overrun = Buffer.concat([rec.subarray(0, rec.length - 1), Buffer.from('0100ff67', 'hex')]);
  assert.equal(parseAvcConfig(overrun).chromaFormat, undefined);
});

const errors: [string, string][] = [
  ['empty', ''],
  ['configurationVersion 0', '0042c00dffe1000467420000'],
  ['no SPS', '0142c00dffe000'],
  ['SPS length overruns', '0142c00dffe1000967420000'],
  ['PPS count missing', '0142c00dffe1000467420000'],
  ['PPS length overruns', '0142c00dffe100046742000001000568'],
];

for (const [name, hex] of errors) {
  test(`parseAvcConfig: ${name} -> CODEC_BAD_AVCC`, () => {
    assert.throws(() => parseAvcConfig(Buffer.from(hex, 'hex')), isBadAvcc);
  });
}

test('parseAvcConfig: every truncation before the trailer -> CODEC_BAD_AVCC', () => {
  for (const [name] of records) {
    const rec = fixture(`${name}.avcc`);
    const end = name.includes('baseline') ? rec.length : rec.length - 4;
    for (let len = 0; len < end; len++) {
      assert.throws(() => parseAvcConfig(rec.subarray(0, len)), isBadAvcc, `${name} cut at ${len}`);
    }
  }
});

test('buildAvcConfig: needs an SPS', () => {
  assert.throws(() => buildAvcConfig([], []), isBadAvcc);
  assert.throws(() => buildAvcConfig([Buffer.from('6742', 'hex')], []), isBadAvcc);
});
