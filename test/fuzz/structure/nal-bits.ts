import type { Mutator } from '../engine/target.ts';

/**
 * Tweaks for bit-packed parameter sets (SPS, AudioSpecificConfig): most fields sit in the first
 * bytes as exp-Golomb codes, so flip bits there, write a long run of zeros (codes of 32+
 * leading zeros), insert or remove emulation prevention bytes, and cut the tail.
 * `header` bytes (the NAL unit header) are left alone half of the time.
 */
export function nalBitsMutator(header: number): Mutator {
  return (buf, rng) => {
    const b = Buffer.from(buf);
    const from = rng.oneIn(2) ? Math.min(header, b.length) : 0;
    const span = Math.max(1, Math.min(b.length - from, 24));
    const at = from + rng.below(span);
    switch (rng.below(5)) {
      case 0:
      case 1:
        if (at < b.length) b[at] = b[at]! ^ (1 << rng.below(8));
        return b;
      case 2: {
        const n = rng.range(2, 6);
        for (let i = 0; i < n && at + i < b.length; i++) b[at + i] = 0;
        if (at + n < b.length) b[at + n] = rng.pick([1, 0x80, 0xff]);
        return b;
      }
      case 3:
        return Buffer.concat([b.subarray(0, at), Buffer.of(0, 0, 3), b.subarray(at)]);
      default:
        return b.subarray(0, at + 1);
    }
  };
}
