/**
 * A small deterministic PRNG (sfc32, 32-bit state words) for the mutation fuzzer. Every input is
 * generated from its own generator, seeded from (run seed, target name, iteration), so any one
 * input can be regenerated from those three values without replaying the ones before it.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...words: number[]) {
    // splitmix32 spreads the seed words over the state; 12 warm-up rounds decorrelate them.
    let s = 0x9e3779b9;
    for (const w of words) s = mix32((s ^ w) >>> 0);
    this.a = mix32((s += 0x9e3779b9));
    this.b = mix32((s += 0x9e3779b9));
    this.c = mix32(s + 0x9e3779b9);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform in [0, 2^32). */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [0, n); 0 when n <= 0. */
  below(n: number): number {
    if (n <= 0) return 0;
    return Math.floor((this.u32() / 0x100000000) * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability 1/n. */
  oneIn(n: number): boolean {
    return this.below(n) === 0;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.below(items.length)]!;
  }

  /** Small numbers more often: 1 + the count of successes before a 1-in-2 failure, capped. */
  geometric(max: number): number {
    let n = 1;
    while (n < max && this.u32() & 1) n++;
    return n;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

/** splitmix32 / murmur3 finalizer. */
export function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over a string or bytes: stable names for seeds and targets. */
export function hash32(data: string | Uint8Array): number {
  let h = 0x811c9dc5;
  if (typeof data === 'string') {
    for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data.charCodeAt(i), 0x01000193);
  } else {
    for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  }
  return h >>> 0;
}

/** The generator of one input: the same (seed, target, iteration) always gives the same stream. */
export function inputRng(seed: number, target: string, iteration: number): Rng {
  return new Rng(seed >>> 0, hash32(target), iteration >>> 0, Math.floor(iteration / 0x100000000));
}
