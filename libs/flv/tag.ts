import { ProtocolError } from '../errors/protocol-error.ts';

/** FLV TagType (FLV spec v10 §E.4.1; the low 5 bits of the tag's first byte). */
export const TagType = { Audio: 8, Video: 9, Script: 18 } as const;
export type TagType = (typeof TagType)[keyof typeof TagType];

/** Tag header: type, 24-bit DataSize, 24-bit Timestamp + TimestampExtended, 24-bit StreamID. */
export const TAG_HEADER_SIZE = 11;
/** DataSize is 24 bits. */
export const MAX_TAG_DATA_SIZE = 0xffffff;

export interface FlvTag {
  type: number;
  timestampMs: number;
  body: Buffer;
}

/**
 * One FLV tag on the wire: 11-byte header, body, then PreviousTagSize (11 + body length).
 * Called once per frame per stream and shared by every viewer, so it does exactly one
 * allocation and no intermediate copies. Timestamps are 32-bit: the low 24 bits go in
 * Timestamp and bits 24-31 in TimestampExtended; larger values wrap modulo 2^32.
 */
export function encodeFlvTag(type: number, timestampMs: number, body: Buffer): Buffer {
  const size = body.length;
  if (size > MAX_TAG_DATA_SIZE) {
    throw new ProtocolError('FLV_TAG_TOO_LARGE', `FLV tag body of ${size} bytes exceeds the 24-bit DataSize`);
  }
  const ts = timestampMs >>> 0;
  const out = Buffer.allocUnsafe(TAG_HEADER_SIZE + size + 4);
  out[0] = type & 0x1f;
  out[1] = size >>> 16;
  out[2] = (size >>> 8) & 0xff;
  out[3] = size & 0xff;
  out[4] = (ts >>> 16) & 0xff;
  out[5] = (ts >>> 8) & 0xff;
  out[6] = ts & 0xff;
  out[7] = ts >>> 24;
  out[8] = 0; // StreamID, always 0
  out[9] = 0;
  out[10] = 0;
  body.copy(out, TAG_HEADER_SIZE);
  out.writeUInt32BE(TAG_HEADER_SIZE + size, TAG_HEADER_SIZE + size);
  return out;
}
