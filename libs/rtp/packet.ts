import { ProtocolError } from '../errors/protocol-error.ts';
import { RtpErrorCode } from './errors.ts';

/** Fixed RTP header (RFC 3550 §5.1) without CSRCs or extension. */
export const RTP_HEADER_BYTES = 12;
export const RTP_VERSION = 2;

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  /** u16 */
  sequenceNumber: number;
  /** u32 */
  timestamp: number;
  ssrc: number;
  /** Zero-copy view of the packet: CSRCs, header extension and padding removed. */
  payload: Buffer;
}

/**
 * Parses one RTP packet (RFC 3550 §5.1). The payload is a view of `buf`, so `buf` must not be
 * reused while the packet (or anything depacketized from it) is alive.
 */
export function parseRtpPacket(buf: Buffer): RtpPacket {
  if (buf.length < RTP_HEADER_BYTES) {
    throw new ProtocolError(
      RtpErrorCode.Truncated,
      `RTP packet of ${buf.length} bytes has no 12-byte header`,
    );
  }
  const b0 = buf[0]!;
  const version = b0 >>> 6;
  if (version !== RTP_VERSION) throw new ProtocolError(RtpErrorCode.BadVersion, `RTP version ${version}`);
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  let start = RTP_HEADER_BYTES + csrcCount * 4;
  let end = buf.length;
  if (start > end) {
    throw new ProtocolError(
      RtpErrorCode.Truncated,
      `RTP packet of ${end} bytes cannot hold ${csrcCount} CSRCs`,
    );
  }
  if (extension) {
    // §5.3.1: 16-bit profile field, 16-bit length in 32-bit words, not counting this 4-byte header.
    if (start + 4 > end) throw new ProtocolError(RtpErrorCode.Truncated, 'RTP header extension truncated');
    start += 4 + buf.readUInt16BE(start + 2) * 4;
    if (start > end)
      throw new ProtocolError(RtpErrorCode.Truncated, 'RTP header extension longer than the packet');
  }
  if (padding) {
    // §5.1: the last octet counts the padding octets, itself included.
    const count = buf[end - 1]!;
    if (count === 0 || count > end - start) {
      throw new ProtocolError(
        RtpErrorCode.BadPadding,
        `RTP padding of ${count} bytes in a ${end - start}-byte payload`,
      );
    }
    end -= count;
  }
  const b1 = buf[1]!;
  return {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(start, end),
  };
}

/** Writes a 12-byte RTP header (no padding, extension or CSRCs) at `offset`. */
export function writeRtpHeader(
  out: Buffer,
  offset: number,
  h: { marker: boolean; payloadType: number; sequenceNumber: number; timestamp: number; ssrc: number },
): void {
  out[offset] = RTP_VERSION << 6;
  out[offset + 1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  out.writeUInt16BE(h.sequenceNumber & 0xffff, offset + 2);
  out.writeUInt32BE(h.timestamp >>> 0, offset + 4);
  out.writeUInt32BE(h.ssrc >>> 0, offset + 8);
}
