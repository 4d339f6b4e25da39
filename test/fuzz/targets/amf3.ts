import { decodeCommandPayload } from '../../../libs/amf/index.ts';
import { checkAmfRoundTrip } from '../engine/amf-roundtrip.ts';
import type { FuzzTarget } from '../engine/target.ts';
import { amf0Mutator } from '../structure/amf0-fields.ts';

/** AMF3 (behind the AMF0 avmplus marker) in RTMP type 17/15 message bodies (libs/amf). */
export const target: FuzzTarget = {
  name: 'amf3',
  description: 'decodeCommandPayload(17): AMF0 with AMF3 values (0x11); decoded values re-encode to the same',
  mutators: [amf0Mutator(1)],
  dictionary: [
    // AMF3 markers, U29 forms (1-4 bytes, reference/inline bits), traits headers.
    ...[0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x11].map((m) => Buffer.of(m)),
    Buffer.of(0xff, 0xff, 0xff, 0xff),
    Buffer.of(0x80, 0x80, 0x80, 0x01),
    Buffer.of(0x0a, 0x0b, 0x01),
    Buffer.of(0x0a, 0x07),
    Buffer.of(0x0a, 0x01),
    Buffer.of(0x09, 0x00),
    Buffer.of(0x06, 0x00),
    Buffer.of(0x11, 0x0a, 0x13, 0x01),
  ],
  run(input) {
    const values = decodeCommandPayload(17, input);
    checkAmfRoundTrip(values, input.length, 9);
  },
};
