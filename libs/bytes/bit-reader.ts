import { ProtocolError } from '../errors/protocol-error.ts';

/** MSB-first bit reader with exp-Golomb (ITU-T H.264 §9.1) for SPS/PPS parsing. */
export class BitReader {
  private readonly buf: Uint8Array;
  private bitPos = 0;
  private readonly bitEnd: number;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.bitEnd = buf.length * 8;
  }

  get bitsLeft(): number {
    return this.bitEnd - this.bitPos;
  }

  private need(n: number, what: string): void {
    if (this.bitPos + n > this.bitEnd) {
      throw new ProtocolError('BITS_TRUNCATED', `truncated ${what}: need ${n} bits, have ${this.bitsLeft}`);
    }
  }

  bit(what = 'bit'): number {
    this.need(1, what);
    const byte = this.buf[this.bitPos >>> 3]!;
    const v = (byte >>> (7 - (this.bitPos & 7))) & 1;
    this.bitPos++;
    return v;
  }

  flag(what = 'flag'): boolean {
    return this.bit(what) === 1;
  }

  /** Up to 32 bits, returned unsigned. Uses arithmetic so 32-bit values stay positive. */
  bits(n: number, what = 'bits'): number {
    if (n < 0 || n > 32) throw new RangeError(`bits(${n}) out of range`);
    this.need(n, what);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit(what);
    return v;
  }

  skip(n: number, what = 'skip'): void {
    this.need(n, what);
    this.bitPos += n;
  }

  /** Unsigned exp-Golomb ue(v). Rejects codes longer than 32 leading zeros. */
  ue(what = 'ue(v)'): number {
    let zeros = 0;
    while (this.bit(what) === 0) {
      zeros++;
      if (zeros > 31) throw new ProtocolError('BITS_BAD_EXP_GOLOMB', `${what}: exp-Golomb code too long`);
    }
    if (zeros === 0) return 0;
    return 2 ** zeros - 1 + this.bits(zeros, what);
  }

  /** Signed exp-Golomb se(v). */
  se(what = 'se(v)'): number {
    const k = this.ue(what);
    return k % 2 === 1 ? (k + 1) / 2 : k === 0 ? 0 : -(k / 2);
  }
}
