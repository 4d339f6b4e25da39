import { parseAudioTag, parseScriptData, parseVideoTag } from '../../../libs/flv/index.ts';
import { invariant } from '../engine/target.ts';
import type { FuzzTarget, Mutator } from '../engine/target.ts';
import { amf0Mutator } from '../structure/amf0-fields.ts';
import { tweakTagBody } from '../structure/flv-tags.ts';

const headerMutator: Mutator = (buf, rng) => {
  const b = Buffer.from(buf);
  if (rng.oneIn(4) && b.length > 0) b[0] = rng.pick([8, 9, 18]);
  else tweakTagBody(b, 1, rng);
  return b;
};

/** Audio, video (legacy and Enhanced RTMP) and script tag bodies (libs/flv). Input: [tag type][body]. */
export const target: FuzzTarget = {
  name: 'flv-tag',
  description: 'parseVideoTag/parseAudioTag/parseScriptData on [type][body] from FLV files and RTMP captures',
  mutators: [headerMutator, headerMutator, amf0Mutator(1)],
  run(input) {
    if (input.length === 0) return;
    const body = input.subarray(1);
    const type = input[0]!;
    if (type === 9 || type > 18) {
      const v = parseVideoTag(body);
      invariant(v.data.length <= body.length, 'video data larger than the body');
      // SI24: -2^23 .. 2^23 - 1.
      invariant(
        v.compositionTimeMs >= -(2 ** 23) && v.compositionTimeMs < 2 ** 23,
        `composition time ${v.compositionTimeMs}`,
      );
    }
    if (type === 8 || type > 18) {
      const a = parseAudioTag(body);
      invariant(a.data.length <= body.length, 'audio data larger than the body');
    }
    if (type === 18 || type > 18) {
      const s = parseScriptData(body);
      invariant(typeof s.name === 'string', 'script data name');
    }
  },
};
