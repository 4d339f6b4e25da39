import { interestingFor, writeField, readField } from '../engine/mutate.ts';
import type { Mutator } from '../engine/target.ts';

/** A place in an AMF0 encoding worth changing: a type marker or a length/count field. */
interface AmfField {
  at: number;
  /** 0 = type marker, else the width of a length/count field. */
  width: 0 | 2 | 4;
}

/**
 * Walks consecutive AMF0 values from `start` (loosely: it stops at anything it cannot follow,
 * never throws) and lists their markers and length fields. AMF3 behind 0x11 is not walked.
 */
export function findAmf0Fields(buf: Buffer, start = 0, limit = 512): AmfField[] {
  const out: AmfField[] = [];
  let p = start;
  const value = (depth: number): boolean => {
    if (p >= buf.length || out.length >= limit || depth > 16) return false;
    const m = buf[p]!;
    out.push({ at: p, width: 0 });
    p++;
    switch (m) {
      case 0x00:
        p += 8;
        return true;
      case 0x01:
        p += 1;
        return true;
      case 0x02:
        out.push({ at: p, width: 2 });
        p += 2 + readField(buf, p, 2);
        return true;
      case 0x0c:
      case 0x0f:
        out.push({ at: p, width: 4 });
        p += 4 + readField(buf, p, 4);
        return true;
      case 0x05:
      case 0x06:
      case 0x0d:
        return true;
      case 0x07:
        out.push({ at: p, width: 2 });
        p += 2;
        return true;
      case 0x0b:
        p += 10;
        return true;
      case 0x08:
        out.push({ at: p, width: 4 });
        p += 4;
        return properties(depth);
      case 0x03:
        return properties(depth);
      case 0x10:
        out.push({ at: p, width: 2 });
        p += 2 + readField(buf, p, 2);
        return properties(depth);
      case 0x0a: {
        out.push({ at: p, width: 4 });
        const n = readField(buf, p, 4);
        p += 4;
        for (let i = 0; i < n; i++) if (!value(depth + 1)) return false;
        return true;
      }
      default:
        return false;
    }
  };
  const properties = (depth: number): boolean => {
    while (p + 2 <= buf.length) {
      out.push({ at: p, width: 2 });
      const len = readField(buf, p, 2);
      p += 2 + len;
      if (len === 0 && buf[p] === 0x09) {
        p++;
        return true;
      }
      if (!value(depth + 1)) return false;
    }
    return false;
  };
  while (p < buf.length && value(0));
  return out;
}

const MARKERS = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
  0x12, 0xff,
];

/**
 * Tweaks AMF0 structure: a marker becomes another, a length or count is pushed off by one or
 * to an extreme, or a reference/AMF3 switch/deep nest is inserted before a value.
 * `start` skips a prefix (the message type byte of typed inputs).
 */
export function amf0Mutator(start = 0): Mutator {
  return (buf, rng) => {
    const fields = findAmf0Fields(buf, start);
    if (fields.length === 0) return buf;
    const f = rng.pick(fields);
    const b = Buffer.from(buf);
    if (f.width !== 0) {
      writeField(b, f.at, f.width, interestingFor(rng, f.width, readField(b, f.at, f.width)));
      return b;
    }
    switch (rng.below(4)) {
      case 0:
      case 1:
        b[f.at] = rng.pick(MARKERS);
        return b;
      case 2: {
        // A reference to an early complex value, or an AMF3 switch with a small AMF3 value.
        const ins = rng.oneIn(2)
          ? Buffer.of(0x07, 0, rng.below(4))
          : Buffer.concat([
              Buffer.of(0x11),
              Buffer.of(rng.pick([0x04, 0x06, 0x09, 0x0a, 0x0c]), rng.below(256)),
            ]);
        return Buffer.concat([b.subarray(0, f.at), ins, b.subarray(f.at)]);
      }
      default: {
        // Nesting: objects or strict arrays opened and never closed.
        const open = rng.oneIn(2) ? Buffer.of(0x03, 0x00, 0x01, 0x61) : Buffer.of(0x0a, 0, 0, 0, 1);
        const n = rng.pick([8, 63, 64, 65, 200]);
        return Buffer.concat([b.subarray(0, f.at), ...Array<Buffer>(n).fill(open), b.subarray(f.at)]);
      }
    }
  };
}
