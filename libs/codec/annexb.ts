import { ProtocolError } from '../errors/protocol-error.ts';
import { CodecErrorCode } from './errors.ts';

/**
 * NAL unit framings. Annex B (H.264/H.265 Annex B) separates NAL units with 0x000001 or
 * 0x00000001 start codes (MPEG-TS, RTSP sprop, raw files). AVCC/HVCC (ISO/IEC 14496-15)
 * prefixes each NAL unit with its length in 1, 2 or 4 bytes (MP4, FLV/RTMP).
 */

export type NalLengthSize = 1 | 2 | 4;

const START_CODE_3 = Buffer.from([0, 0, 1]);
const START_CODE_4 = Buffer.from([0, 0, 0, 1]);

/** A NAL unit never ends in 0x00 (§7.4.1), so zeros before a start code are trailing_zero_8bits. */
function trimTrailingZeros(buf: Buffer, start: number, end: number): number {
  while (end > start && buf[end - 1] === 0) end--;
  return end;
}

/**
 * Zero-copy views of the NAL units in an Annex B byte stream. Bytes before the first start
 * code (leading_zero_8bits, or garbage from a cut stream) are skipped; empty NAL units are dropped.
 */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let sc = buf.indexOf(START_CODE_3);
  while (sc >= 0) {
    const start = sc + 3;
    const next = buf.indexOf(START_CODE_3, start);
    const end = trimTrailingZeros(buf, start, next < 0 ? buf.length : next);
    if (end > start) out.push(buf.subarray(start, end));
    sc = next;
  }
  return out;
}

/** Annex B byte stream with a 4-byte start code before every NAL unit, in one allocation. */
export function nalusToAnnexB(nalus: readonly Buffer[]): Buffer {
  let size = 0;
  for (const n of nalus) size += 4 + n.length;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const n of nalus) {
    out.set(START_CODE_4, pos);
    out.set(n, pos + 4);
    pos += 4 + n.length;
  }
  return out;
}

/** Zero-copy views of the NAL units in an AVCC/HVCC sample. Zero-length entries are dropped. */
export function splitLengthPrefixed(buf: Buffer, lengthSize: NalLengthSize): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (pos + lengthSize > buf.length) {
      throw new ProtocolError(
        CodecErrorCode.BadNaluLength,
        `truncated ${lengthSize}-byte NAL unit length at offset ${pos} of ${buf.length}`,
      );
    }
    const len = buf.readUIntBE(pos, lengthSize);
    pos += lengthSize;
    if (len > buf.length - pos) {
      throw new ProtocolError(
        CodecErrorCode.BadNaluLength,
        `NAL unit length ${len} at offset ${pos - lengthSize} overruns the ${buf.length}-byte sample`,
      );
    }
    if (len > 0) out.push(buf.subarray(pos, pos + len));
    pos += len;
  }
  return out;
}

/** AVCC/HVCC sample from NAL units (default 4-byte lengths), in one allocation. */
export function nalusToLengthPrefixed(nalus: readonly Buffer[], lengthSize: NalLengthSize = 4): Buffer {
  const max = 2 ** (8 * lengthSize) - 1;
  let size = 0;
  for (const n of nalus) {
    if (n.length > max) {
      throw new ProtocolError(
        CodecErrorCode.BadNaluLength,
        `NAL unit of ${n.length} bytes does not fit a ${lengthSize}-byte length field`,
      );
    }
    size += lengthSize + n.length;
  }
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const n of nalus) {
    out.writeUIntBE(n.length, pos, lengthSize);
    out.set(n, pos + lengthSize);
    pos += lengthSize + n.length;
  }
  return out;
}

export function annexBToLengthPrefixed(buf: Buffer, lengthSize: NalLengthSize = 4): Buffer {
  return nalusToLengthPrefixed(splitAnnexB(buf), lengthSize);
}

export function lengthPrefixedToAnnexB(buf: Buffer, lengthSize: NalLengthSize): Buffer {
  return nalusToAnnexB(splitLengthPrefixed(buf, lengthSize));
}
