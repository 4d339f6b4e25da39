import { ProtocolError } from '../errors/protocol-error.ts';
import { RtpErrorCode } from './errors.ts';

/** RFC 2326 §10.12 / RFC 7826 §14: '$', channel, u16 length, then the packet. */
export const INTERLEAVED_MAGIC = 0x24;
export const INTERLEAVED_HEADER_BYTES = 4;
export const MAX_INTERLEAVED_PACKET = 0xffff;

export function writeInterleavedHeader(out: Buffer, offset: number, channel: number, length: number): void {
  if (length > MAX_INTERLEAVED_PACKET) throw new RangeError(`interleaved packet of ${length} bytes > 65535`);
  out[offset] = INTERLEAVED_MAGIC;
  out[offset + 1] = channel & 0xff;
  out.writeUInt16BE(length, offset + 2);
}

/** The 4-byte interleaved header for a packet of `length` bytes on `channel`. */
export function interleavedHeader(channel: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(INTERLEAVED_HEADER_BYTES);
  writeInterleavedHeader(b, 0, channel, length);
  return b;
}

/**
 * Calls `fn` with each record of a run of interleaved records (what `RtpTrackOutput.write`
 * makes). `packet` is a view of `buf`. A record that does not start with '$' or runs past the
 * end is a ProtocolError.
 */
export function forEachInterleaved(buf: Buffer, fn: (channel: number, packet: Buffer) => void): void {
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] !== INTERLEAVED_MAGIC) {
      throw new ProtocolError(
        RtpErrorCode.BadInterleaved,
        `interleaved record at ${pos} does not start with '$'`,
      );
    }
    if (pos + INTERLEAVED_HEADER_BYTES > buf.length) {
      throw new ProtocolError(RtpErrorCode.BadInterleaved, `interleaved header at ${pos} truncated`);
    }
    const channel = buf[pos + 1]!;
    const length = buf.readUInt16BE(pos + 2);
    const start = pos + INTERLEAVED_HEADER_BYTES;
    if (start + length > buf.length) {
      throw new ProtocolError(
        RtpErrorCode.BadInterleaved,
        `interleaved packet at ${pos} of ${length} bytes truncated`,
      );
    }
    fn(channel, buf.subarray(start, start + length));
    pos = start + length;
  }
}
