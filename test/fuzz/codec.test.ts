import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  h264NalType,
  h265NalType,
  lengthPrefixedToAnnexB,
  parseAdtsFrames,
  parseAudioSpecificConfig,
  parseAvcConfig,
  parseH264Sps,
  parseH265Sps,
  parseHevcConfig,
  removeEmulationPrevention,
  splitAnnexB,
  splitLengthPrefixed,
} from '../../libs/codec/index.ts';
import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import { fixture, h264Parameters, h265Parameters } from '../unit/codec/fixtures.ts';

const RUNS = 2000;

/** Runs `parse` and fails on anything thrown that is not a ProtocolError. */
function onlyProtocolErrors(parse: (b: Buffer) => unknown): (bytes: Uint8Array) => void {
  return (bytes) => {
    try {
      parse(Buffer.from(bytes));
    } catch (e) {
      assert.ok(e instanceof ProtocolError, `threw ${String(e)}`);
    }
  };
}

/** Random bytes, plus real samples with random bytes overwritten and a random cut. */
function inputs(seeds: Buffer[], prefix: number[] = []): fc.Arbitrary<Uint8Array> {
  const random = fc.uint8Array({ maxLength: 256 }).map((b) => Uint8Array.from([...prefix, ...b]));
  if (seeds.length === 0) return random;
  const mutated = fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.nat(),
    )
    .map(([seed, edits, cut]) => {
      const b = Uint8Array.from(seed);
      for (const [at, v] of edits) b[at % b.length] = v;
      return b.subarray(0, cut % (b.length + 1));
    });
  return fc.oneof(random, mutated);
}

const h264Names = [
  'h264-baseline-320x240',
  'h264-high-1920x1080',
  'h264-high422-10bit-1920x1080',
  'h264-interlaced-1920x1080',
];
const h265Names = [
  'h265-main-1280x720',
  'h265-main10-854x480',
  'h265-rext422-636x358',
  'h265-sublayers-1920x1080',
];
const aacNames = ['aac-mono-44100', 'aac-stereo-48000', 'aac-stereo-22050'];

const targets: [string, (b: Buffer) => unknown, fc.Arbitrary<Uint8Array>][] = [
  ['removeEmulationPrevention', removeEmulationPrevention, inputs([])],
  ['splitAnnexB', splitAnnexB, inputs([fixture('h264-high-1920x1080.h264').subarray(0, 200)])],
  ['splitLengthPrefixed(1)', (b) => splitLengthPrefixed(b, 1), inputs([])],
  ['splitLengthPrefixed(2)', (b) => splitLengthPrefixed(b, 2), inputs([])],
  [
    'lengthPrefixedToAnnexB(4)',
    (b) => lengthPrefixedToAnnexB(b, 4),
    inputs([Buffer.from('0000000267aa00000001', 'hex')]),
  ],
  ['h264NalType', h264NalType, inputs([])],
  ['h265NalType', h265NalType, inputs([])],
  [
    'parseAvcConfig',
    parseAvcConfig,
    inputs(
      h264Names.slice(0, 3).map((n) => fixture(`${n}.avcc`)),
      [1],
    ),
  ],
  [
    'parseH264Sps',
    parseH264Sps,
    inputs(
      h264Names.map((n) => h264Parameters(`${n}.h264`).sps),
      [0x67],
    ),
  ],
  [
    'parseHevcConfig',
    parseHevcConfig,
    inputs(
      h265Names.slice(0, 3).map((n) => fixture(`${n}.hvcc`).subarray(0, 90)),
      [1],
    ),
  ],
  [
    'parseH265Sps',
    parseH265Sps,
    inputs(
      h265Names.map((n) => h265Parameters(`${n}.hevc`).sps),
      [0x42, 0x01],
    ),
  ],
  ['parseAudioSpecificConfig', parseAudioSpecificConfig, inputs(aacNames.map((n) => fixture(`${n}.asc`)))],
  [
    'parseAdtsFrames',
    parseAdtsFrames,
    inputs(
      aacNames.map((n) => fixture(`${n}.aac`).subarray(0, 400)),
      [0xff, 0xf1],
    ),
  ],
];

for (const [name, parse, arb] of targets) {
  test(`fuzz: ${name} raises only ProtocolError`, () => {
    fc.assert(fc.property(arb, onlyProtocolErrors(parse)), { numRuns: RUNS });
  });
}
