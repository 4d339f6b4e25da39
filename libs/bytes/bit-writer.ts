/** MSB-first bit writer with exp-Golomb, the inverse of BitReader. */
export class BitWriter {
  private readonly bytes: number[] = [];
  private cur = 0;
  private nbits = 0;

  bit(v: number | boolean): this {
    this.cur = (this.cur << 1) | (v ? 1 : 0);
    this.nbits++;
    if (this.nbits === 8) {
      this.bytes.push(this.cur);
      this.cur = 0;
      this.nbits = 0;
    }
    return this;
  }

  bits(n: number, v: number): this {
    for (let i = n - 1; i >= 0; i--) this.bit(Math.floor(v / 2 ** i) % 2);
    return this;
  }

  ue(v: number): this {
    const x = v + 1;
    const len = Math.floor(Math.log2(x));
    this.bits(len, 0);
    return this.bits(len + 1, x);
  }

  se(v: number): this {
    return this.ue(v > 0 ? 2 * v - 1 : -2 * v);
  }

  /** Pads the last byte with the RBSP stop bit and zeros when `trailing` is set, else with zeros. */
  toBuffer(trailing = false): Buffer {
    const out = [...this.bytes];
    let cur = this.cur;
    let n = this.nbits;
    if (trailing) {
      cur = (cur << 1) | 1;
      n++;
      if (n === 8) {
        out.push(cur);
        n = 0;
        cur = 0;
      }
    }
    if (n > 0) out.push(cur << (8 - n));
    return Buffer.from(out);
  }
}
