import { ProtocolError } from '../errors/protocol-error.ts';

/**
 * Bounds-checked big/little-endian reader over a Buffer. Every read names what it is
 * reading so a short buffer yields an error that says which structure was truncated.
 * `bytes()` returns zero-copy views.
 */
export class ByteReader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws a ProtocolError unless `n` more bytes are available. */
  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new ProtocolError(
        'BYTES_TRUNCATED',
        `truncated ${what}: need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`,
      );
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16be(what = 'u16be'): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u24be(what = 'u24be'): number {
    this.need(3, what);
    const v = this.buf.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  i24be(what = 'i24be'): number {
    this.need(3, what);
    const v = this.buf.readIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  u32be(what = 'u32be'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u32le(what = 'u32le'): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  i16be(what = 'i16be'): number {
    this.need(2, what);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  f64be(what = 'f64be'): number {
    this.need(8, what);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Zero-copy view of the next `n` bytes. */
  bytes(n: number, what = 'bytes'): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number, what = 'skip'): void {
    this.need(n, what);
    this.pos += n;
  }

  /** Zero-copy view of everything left. */
  rest(): Buffer {
    const v = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return v;
  }
}
