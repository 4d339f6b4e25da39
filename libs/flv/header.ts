import { ProtocolError } from '../errors/protocol-error.ts';

/** FLV file header (9 bytes, FLV spec v10 §E.2) plus the 4-byte PreviousTagSize0. */
export const FLV_HEADER_SIZE = 9;
export const PREVIOUS_TAG_SIZE_BYTES = 4;

export interface FlvHeader {
  hasAudio: boolean;
  hasVideo: boolean;
}

/** 'FLV', version 1, TypeFlags (bit 2 audio, bit 0 video), DataOffset 9, then PreviousTagSize0 = 0. */
export function encodeFlvHeader(hasAudio: boolean, hasVideo: boolean): Buffer {
  const out = Buffer.alloc(FLV_HEADER_SIZE + PREVIOUS_TAG_SIZE_BYTES);
  out.write('FLV', 0, 'latin1');
  out[3] = 1;
  out[4] = (hasAudio ? 0x04 : 0) | (hasVideo ? 0x01 : 0);
  out.writeUInt32BE(FLV_HEADER_SIZE, 5);
  return out;
}

/**
 * Parses the 9-byte header. Returns the flags and the DataOffset (bytes from the start of
 * the file to PreviousTagSize0; 9 for version 1, larger values leave room to skip).
 */
export function parseFlvHeader(buf: Buffer): FlvHeader & { dataOffset: number } {
  if (buf.length < FLV_HEADER_SIZE) {
    throw new ProtocolError('BYTES_TRUNCATED', `truncated FLV header: need 9 bytes, have ${buf.length}`);
  }
  if (buf[0] !== 0x46 || buf[1] !== 0x4c || buf[2] !== 0x56) {
    throw new ProtocolError(
      'FLV_BAD_SIGNATURE',
      `FLV header signature is not "FLV" (${buf.toString('hex', 0, 3)})`,
    );
  }
  const flags = buf[4]!;
  const dataOffset = buf.readUInt32BE(5);
  if (dataOffset < FLV_HEADER_SIZE) {
    throw new ProtocolError('FLV_BAD_HEADER', `FLV DataOffset ${dataOffset} is smaller than the header`);
  }
  return { hasAudio: (flags & 0x04) !== 0, hasVideo: (flags & 0x01) !== 0, dataOffset };
}
