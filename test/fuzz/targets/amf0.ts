import { decodeAmf0 } from '../../../libs/amf/index.ts';
import { checkAmfRoundTrip } from '../engine/amf-roundtrip.ts';
import type { FuzzTarget } from '../engine/target.ts';
import { amf0Mutator } from '../structure/amf0-fields.ts';

/** AMF0 decoding (libs/amf) of RTMP command and data message bodies and FLV script tags. */
export const target: FuzzTarget = {
  name: 'amf0',
  description: 'decodeAmf0: command/data bodies from captures; decoded values re-encode to the same',
  mutators: [amf0Mutator()],
  dictionary: [0x02, 0x03, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x10, 0x11].map((m) => Buffer.of(m)),
  run(input) {
    const values = decodeAmf0(input);
    // Pure AMF0 re-encodes at most as large as its input plus what references stand for;
    // AMF3 inside (0x11) may grow (a 2-byte integer becomes a 9-byte number).
    checkAmfRoundTrip(values, input.length, input.includes(0x11) ? 9 : 1);
  },
};
