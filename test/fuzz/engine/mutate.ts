import type { Mutator } from './target.ts';
import type { Rng } from './rng.ts';

// Generic byte-level mutators: they know nothing about the format, only where numbers and
// lengths tend to hide (1-4 byte fields, either byte order).

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40, 0x3f, 0xfe];
const INTERESTING_16 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0xfffe, 0x3fff];
const INTERESTING_32 = [
  0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x10000, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000, 0xfffffffe,
  0xffffffff,
];

/** Writes `value` as a `width`-byte big- or little-endian field at `at` (clipped to the buffer). */
export function writeField(
  buf: Buffer,
  at: number,
  width: number,
  value: number,
  littleEndian = false,
): void {
  for (let i = 0; i < width && at + i < buf.length; i++) {
    const shift = littleEndian ? i : width - 1 - i;
    buf[at + i] = Math.floor(value / 2 ** (8 * shift)) & 0xff;
  }
}

/** Reads a `width`-byte field (missing bytes read as 0). */
export function readField(buf: Buffer, at: number, width: number, littleEndian = false): number {
  let v = 0;
  for (let i = 0; i < width; i++) {
    const shift = littleEndian ? i : width - 1 - i;
    v += (buf[at + i] ?? 0) * 2 ** (8 * shift);
  }
  return v;
}

/** A value a length or count field is likely to mishandle, given its current value. */
export function interestingFor(rng: Rng, width: number, current: number): number {
  const max = 2 ** (8 * width) - 1;
  switch (rng.below(5)) {
    case 0:
      return (current + 1) % (max + 1); // length + 1
    case 1:
      return (current + max) % (max + 1); // length - 1
    case 2:
      return rng.below(max + 1);
    default: {
      const table = width === 1 ? INTERESTING_8 : width === 2 ? INTERESTING_16 : INTERESTING_32;
      return rng.pick(table) % (max + 1);
    }
  }
}

const flipBit: Mutator = (b, rng) => {
  if (b.length === 0) return b;
  const at = rng.below(b.length);
  b[at] = b[at]! ^ (1 << rng.below(8));
  return b;
};

const randomByte: Mutator = (b, rng) => {
  if (b.length === 0) return b;
  b[rng.below(b.length)] = rng.below(256);
  return b;
};

const invertByte: Mutator = (b, rng) => {
  if (b.length === 0) return b;
  const at = rng.below(b.length);
  b[at] = b[at]! ^ 0xff;
  return b;
};

const interestingValue: Mutator = (b, rng) => {
  if (b.length === 0) return b;
  const width = rng.pick([1, 2, 3, 4]);
  const at = rng.below(b.length);
  const le = rng.oneIn(4);
  writeField(b, at, width, interestingFor(rng, width, readField(b, at, width, le)), le);
  return b;
};

const arithmetic: Mutator = (b, rng) => {
  if (b.length === 0) return b;
  const width = rng.pick([1, 2, 4]);
  const at = rng.below(b.length);
  const max = 2 ** (8 * width);
  const delta = rng.range(1, 35) * (rng.oneIn(2) ? 1 : -1);
  writeField(b, at, width, (readField(b, at, width) + delta + max) % max);
  return b;
};

const insertBytes: Mutator = (b, rng) => {
  const at = rng.below(b.length + 1);
  const n = rng.geometric(64);
  const fill = rng.oneIn(2) ? rng.bytes(n) : Buffer.alloc(n, rng.pick([0, 0xff, rng.below(256)]));
  return Buffer.concat([b.subarray(0, at), fill, b.subarray(at)]);
};

const deleteRange: Mutator = (b, rng) => {
  if (b.length === 0) return b;
  const at = rng.below(b.length);
  const n = Math.min(b.length - at, rng.oneIn(4) ? rng.below(b.length) + 1 : rng.geometric(32));
  return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
};

const duplicateRange: Mutator = (b, rng) => {
  if (b.length === 0) return b;
  const from = rng.below(b.length);
  const n = Math.min(b.length - from, rng.geometric(256));
  const times = rng.geometric(8);
  const at = rng.oneIn(2) ? from + n : rng.below(b.length + 1);
  const copy = Buffer.concat(Array.from({ length: times }, () => b.subarray(from, from + n)));
  return Buffer.concat([b.subarray(0, at), copy, b.subarray(at)]);
};

const overwriteRange: Mutator = (b, rng) => {
  if (b.length < 2) return b;
  const from = rng.below(b.length);
  const to = rng.below(b.length);
  const n = Math.min(b.length - from, b.length - to, rng.geometric(64));
  b.copy(b, to, from, from + n);
  return b;
};

const truncate: Mutator = (b, rng) => b.subarray(0, rng.below(b.length + 1));

/** The generic mutators, weighted by repetition. */
export const BYTE_MUTATORS: readonly Mutator[] = [
  flipBit,
  flipBit,
  randomByte,
  invertByte,
  interestingValue,
  interestingValue,
  arithmetic,
  insertBytes,
  deleteRange,
  duplicateRange,
  overwriteRange,
];

export { truncate };

/** Writes or inserts a dictionary token at a random place. */
export function dictionaryMutator(tokens: readonly Buffer[]): Mutator {
  return (b, rng) => {
    const t = rng.pick(tokens);
    const at = rng.below(b.length + 1);
    if (rng.oneIn(2)) return Buffer.concat([b.subarray(0, at), t, b.subarray(at)]);
    const out = Buffer.from(b);
    t.copy(out, at, 0, Math.min(t.length, out.length - at));
    return out;
  };
}

/** Splices `other` into `b`: a head of one and a tail of the other, at random points. */
export function splice(b: Buffer, other: Buffer, rng: Rng): Buffer {
  const cutA = rng.below(b.length + 1);
  const cutB = rng.below(other.length + 1);
  return rng.oneIn(2)
    ? Buffer.concat([b.subarray(0, cutA), other.subarray(cutB)])
    : Buffer.concat([other.subarray(0, cutB), b.subarray(cutA)]);
}
