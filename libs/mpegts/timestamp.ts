import { CLOCK_90K_PER_MS } from './constants.ts';

/**
 * 90 kHz timestamps: PTS/DTS and the PCR base are 33-bit counters that wrap about every
 * 26.5 hours. Values above 2^31 do not survive JavaScript's 32-bit bit operators, so the top
 * bits are taken with arithmetic (`/ 2 ** 30`, `%`), never with `<<`.
 */

export const PTS_MODULO = 2 ** 33;
const TWO_30 = 2 ** 30;

/** Milliseconds of the unwrapped timeline -> 90 kHz ticks (not wrapped). */
export function msTo90k(ms: number): number {
  return Math.round(ms * CLOCK_90K_PER_MS);
}

/** A 90 kHz value (possibly negative or past 2^33) reduced to the 33-bit field's range. */
export function wrap33(ticks: number): number {
  const r = ticks % PTS_MODULO;
  return r < 0 ? r + PTS_MODULO : r;
}

/**
 * Writes a 5-byte PTS or DTS field (§2.4.3.7): 4-bit prefix ('0010' PTS only, '0011' PTS before
 * a DTS, '0001' DTS), then the 33 bits in 3 + 15 + 15 with a marker bit after each part.
 */
export function writeTimestampField(buf: Buffer, offset: number, prefix: number, ticks: number): void {
  const t = wrap33(ticks);
  const high3 = Math.floor(t / TWO_30) & 0x07;
  const low30 = t % TWO_30;
  buf[offset] = (prefix << 4) | (high3 << 1) | 1;
  buf[offset + 1] = (low30 >>> 22) & 0xff;
  buf[offset + 2] = (((low30 >>> 15) & 0x7f) << 1) | 1;
  buf[offset + 3] = (low30 >>> 7) & 0xff;
  buf[offset + 4] = ((low30 & 0x7f) << 1) | 1;
}

/** Reads the 33-bit value of a 5-byte PTS/DTS field (prefix and marker bits are not checked). */
export function readTimestampField(buf: Uint8Array, offset: number): number {
  const high3 = (buf[offset]! >>> 1) & 0x07;
  const low30 =
    (buf[offset + 1]! << 22) |
    ((buf[offset + 2]! >>> 1) << 15) |
    (buf[offset + 3]! << 7) |
    (buf[offset + 4]! >>> 1);
  return high3 * TWO_30 + low30;
}

/** PCR field size in an adaptation field: 33-bit base, 6 reserved bits, 9-bit extension. */
export const PCR_FIELD_SIZE = 6;

/** Writes program_clock_reference (§2.4.3.5) with the given 90 kHz base and a 27 MHz extension. */
export function writePcrField(buf: Buffer, offset: number, base90k: number, extension = 0): void {
  const base = wrap33(base90k);
  buf.writeUInt32BE(Math.floor(base / 2), offset);
  buf[offset + 4] = ((base % 2) << 7) | 0x7e | ((extension >>> 8) & 0x01);
  buf[offset + 5] = extension & 0xff;
}

/** Reads program_clock_reference: the 90 kHz base and the 9-bit extension (27 MHz = base * 300 + ext). */
export function readPcrField(buf: Buffer, offset: number): { base90k: number; extension: number } {
  const b4 = buf[offset + 4]!;
  return {
    base90k: buf.readUInt32BE(offset) * 2 + (b4 >>> 7),
    extension: ((b4 & 0x01) << 8) | buf[offset + 5]!,
  };
}
