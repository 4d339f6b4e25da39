import { parseAudioSpecificConfig, parseAvcConfig, parseHevcConfig } from '../../../libs/codec/index.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import {
  FlvReader,
  parseAudioTag,
  parseFlvHeader,
  parseScriptData,
  parseVideoTag,
} from '../../../libs/flv/index.ts';
import type { FlvTag } from '../../../libs/flv/index.ts';
import { invariant, pieces, splitPoints } from '../engine/target.ts';
import type { FuzzTarget } from '../engine/target.ts';
import { flvFileMutator } from '../structure/flv-tags.ts';

const MAX_TAG = 64 * 1024;

function read(parts: readonly Buffer[]): { tags: FlvTag[]; error: ProtocolError | null } {
  const reader = new FlvReader({ maxTagSize: MAX_TAG });
  const tags: FlvTag[] = [];
  for (const p of parts) {
    try {
      tags.push(...reader.push(p));
    } catch (e) {
      if (e instanceof ProtocolError) return { tags, error: e };
      throw e;
    }
  }
  return { tags, error: null };
}

/** Parses a tag body the way a publisher's media is parsed: header, then its config record. */
function parseTag(t: FlvTag): void {
  if (t.type === 9) {
    const v = parseVideoTag(t.body);
    invariant(v.data.length <= t.body.length, 'video data larger than the tag');
    if (v.isSequenceHeader && v.codec === 'avc' && !v.enhanced) parseAvcConfig(v.data);
    if (v.isSequenceHeader && v.codec === 'hevc' && v.packetType === 'sequenceStart') parseHevcConfig(v.data);
  } else if (t.type === 8) {
    const a = parseAudioTag(t.body);
    if (a.isSequenceHeader && a.codec === 'aac' && !a.enhanced) parseAudioSpecificConfig(a.data);
  } else if (t.type === 18) {
    parseScriptData(t.body);
  }
}

/** FLV files and HTTP-FLV bodies through FlvReader (libs/flv), whole and split, and every tag parsed. */
export const target: FuzzTarget = {
  name: 'flv',
  description:
    'parseFlvHeader + FlvReader (whole and split) + tag/config parsers: ffmpeg files, Sluice HTTP-FLV',
  mutators: [flvFileMutator, flvFileMutator],
  run(input) {
    if (input.length >= 9) parseFlvHeaderSafe(input);
    const whole = read([input]);
    const split = read(pieces(input, splitPoints(input, 6)));
    invariant(whole.error?.code === split.error?.code, 'split changed the outcome');
    // A push that throws returns nothing, so the tags compare only when neither failed.
    if (!whole.error) invariant(whole.tags.length === split.tags.length, 'split changed the tags');
    whole.tags.forEach((t, i) => {
      const s = split.tags[i]!;
      invariant(
        t.type === s.type && t.timestampMs === s.timestampMs && t.body.equals(s.body),
        `tag ${i} differs when split`,
      );
      invariant(t.body.length <= MAX_TAG && t.type < 32, `tag ${i}: type ${t.type}, ${t.body.length} bytes`);
    });
    for (const t of whole.tags) {
      try {
        parseTag(t);
      } catch (e) {
        // A bad tag ends the tag, not the fuzz input: the tags after it are parsed too.
        if (!(e instanceof ProtocolError)) throw e;
      }
    }
    if (whole.error) throw whole.error;
  },
};

function parseFlvHeaderSafe(input: Buffer): void {
  try {
    parseFlvHeader(input.subarray(0, 9));
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
}
