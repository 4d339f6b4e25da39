import {
  parseAudioSpecificConfig,
  parseAvcConfig,
  parseH264Sps,
  parseH265Sps,
  parseHevcConfig,
} from '../../../libs/codec/index.ts';
import { interestingFor, readField, writeField } from '../engine/mutate.ts';
import { invariant } from '../engine/target.ts';
import type { FuzzTarget, Mutator } from '../engine/target.ts';
import { nalBitsMutator } from '../structure/nal-bits.ts';

/** Count and length fields of an avcC: numSps at 5, then u16 lengths. */
const avccMutator: Mutator = (buf, rng) => {
  const b = Buffer.from(buf);
  const fields: [number, number][] = [
    [0, 1],
    [4, 1],
    [5, 1],
  ];
  let p = 6;
  for (let i = 0; i < 4 && p + 2 <= b.length; i++) {
    fields.push([p, 2]);
    p += 2 + readField(b, p, 2);
    if (p < b.length) fields.push([p, 1]);
    p++;
  }
  const [at, w] = rng.pick(fields);
  writeField(b, at, w, interestingFor(rng, w, readField(b, at, w)));
  return b;
};

/** numOfArrays at 22, then per array: type, u16 count, u16 lengths. */
const hvccMutator: Mutator = (buf, rng) => {
  const b = Buffer.from(buf);
  const fields: [number, number][] = [
    [0, 1],
    [21, 1],
    [22, 1],
  ];
  let p = 23;
  for (let i = 0; i < 6 && p + 5 <= b.length; i++) {
    fields.push([p, 1], [p + 1, 2], [p + 3, 2]);
    p += 5 + readField(b, p + 3, 2);
  }
  const [at, w] = rng.pick(fields);
  writeField(b, at, w, interestingFor(rng, w, readField(b, at, w)));
  return b;
};

const positive = (n: number): boolean => Number.isSafeInteger(n) && n > 0;

export const targets: FuzzTarget[] = [
  {
    name: 'avc-config',
    description:
      'parseAvcConfig (+ parseH264Sps of its SPS): AVC sequence headers from captures and fixtures',
    mutators: [avccMutator, nalBitsMutator(8)],
    run(input) {
      const c = parseAvcConfig(input);
      invariant(c.sps.length > 0 && [1, 2, 4].includes(c.nalLengthSize), 'avcC shape');
      const bytes = [...c.sps, ...c.pps, ...(c.spsExt ?? [])].reduce((n, x) => n + x.length, 0);
      invariant(bytes <= input.length, `parameter sets of ${bytes} bytes in ${input.length}`);
      for (const sps of c.sps) parseH264Sps(sps);
    },
  },
  {
    name: 'hevc-config',
    description: 'parseHevcConfig (+ parseH265Sps of its SPS): hvcC from fixtures and the H.265 FLVs',
    mutators: [hvccMutator, hvccMutator, nalBitsMutator(30)],
    run(input) {
      const c = parseHevcConfig(input);
      invariant(c.sps.length > 0 && [1, 2, 4].includes(c.nalLengthSize), 'hvcC shape');
      for (const sps of c.sps) parseH265Sps(sps);
    },
  },
  {
    name: 'aac-asc',
    description: 'parseAudioSpecificConfig: AAC sequence headers from captures and fixtures',
    mutators: [nalBitsMutator(0)],
    maxInputBytes: 64,
    run(input) {
      const c = parseAudioSpecificConfig(input);
      invariant(
        positive(c.sampleRate) && c.objectType > 0,
        `rate ${c.sampleRate}, object type ${c.objectType}`,
      );
      invariant(c.channelConfiguration >= 0 && c.channelConfiguration < 16, 'channel configuration');
    },
  },
  {
    name: 'h264-sps',
    description: 'parseH264Sps: SPS from captured avcC records and fixtures',
    mutators: [nalBitsMutator(1), nalBitsMutator(1)],
    maxInputBytes: 512,
    run(input) {
      const s = parseH264Sps(input);
      invariant(positive(s.width) && positive(s.height), `size ${s.width}x${s.height}`);
      invariant(s.fps === undefined || (Number.isFinite(s.fps) && s.fps > 0), `fps ${s.fps}`);
    },
  },
  {
    name: 'h265-sps',
    description: 'parseH265Sps: SPS from hvcC records and fixtures',
    mutators: [nalBitsMutator(2), nalBitsMutator(2)],
    maxInputBytes: 512,
    run(input) {
      const s = parseH265Sps(input);
      invariant(positive(s.width) && positive(s.height), `size ${s.width}x${s.height}`);
      invariant(s.generalConstraintIndicatorFlags.length === 6, 'constraint flags');
    },
  },
];
