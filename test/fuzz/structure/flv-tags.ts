import { interestingFor, readField, writeField } from '../engine/mutate.ts';
import type { Rng } from '../engine/rng.ts';
import type { Mutator } from '../engine/target.ts';

/** Offsets of the tag headers in an FLV file (loosely: stops where it cannot follow). */
export function findFlvTags(buf: Buffer, limit = 512): number[] {
  const out: number[] = [];
  if (buf.length < 13 || buf.toString('latin1', 0, 3) !== 'FLV') return out;
  let p = readField(buf, 5, 4) + 4;
  while (p + 11 <= buf.length && out.length < limit) {
    out.push(p);
    p += 11 + readField(buf, p + 1, 3) + 4;
  }
  return out;
}

export const FOURCCS = [
  'avc1',
  'hvc1',
  'av01',
  'vp09',
  'mp4a',
  'Opus',
  '.mp3',
  'fLaC',
  'ac-3',
  'ec-3',
  'xxxx',
];

/**
 * Tweaks the first bytes of an audio/video tag body at `at`: the legacy or enhanced header
 * byte (frame type, codec id, IsExHeader, packet type), the AVC/AAC packet type, a FourCC.
 */
export function tweakTagBody(b: Buffer, at: number, rng: Rng): void {
  if (at >= b.length) return;
  switch (rng.below(5)) {
    case 0: // enhanced video: IsExHeader, frame type, packet type (incl. ModEx 7, Multitrack 6)
      b[at] = 0x80 | (rng.below(8) << 4) | rng.below(16);
      return;
    case 1: // legacy video: frame type, codec id 7/12/other
      b[at] = (rng.below(16) << 4) | rng.pick([7, 12, 2, 4, 13, rng.below(16)]);
      return;
    case 2: // audio: sound format 10 (AAC), 9 (ExHeader) with a packet type, or other
      b[at] = (rng.pick([10, 9, 2, 14, rng.below(16)]) << 4) | rng.below(16);
      return;
    case 3: // AVC/AAC packet type, multitrack type, ModEx size
      if (at + 1 < b.length) b[at + 1] = rng.pick([0, 1, 2, 3, 0x10, 0x20, 0xff, rng.below(256)]);
      return;
    default:
      b.write(rng.pick(FOURCCS), at + 1, 'latin1');
  }
}

/** Structure-aware tweaks of an FLV file: DataSize, PreviousTagSize, type, timestamps, body headers. */
export const flvFileMutator: Mutator = (buf, rng) => {
  const b = Buffer.from(buf);
  const tags = findFlvTags(b);
  if (tags.length === 0 || rng.oneIn(10)) {
    // The file header: version, flags, DataOffset.
    const at = rng.pick([3, 4, 5, 8]);
    if (at === 5 || at === 8) writeField(b, 5, 4, interestingFor(rng, 4, readField(b, 5, 4)));
    else if (at < b.length) b[at] = rng.below(256);
    return b;
  }
  const t = rng.pick(tags);
  const size = readField(b, t + 1, 3);
  switch (rng.below(5)) {
    case 0:
      writeField(b, t + 1, 3, interestingFor(rng, 3, size));
      return b;
    case 1:
      writeField(b, t + 11 + size, 4, interestingFor(rng, 4, readField(b, t + 11 + size, 4)));
      return b;
    case 2:
      b[t] = rng.pick([8, 9, 18, 0x28, 0x29, 0x3f, 0, rng.below(256)]);
      return b;
    case 3:
      writeField(b, t + 4, 4, interestingFor(rng, 4, readField(b, t + 4, 4)));
      return b;
    default:
      tweakTagBody(b, t + 11, rng);
      return b;
  }
};
