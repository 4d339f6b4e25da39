import { ProtocolError } from '../errors/protocol-error.ts';
import { TsErrorCode } from './errors.ts';
import { readTimestampField, writeTimestampField } from './timestamp.ts';

/**
 * PES packet header (ISO/IEC 13818-1 §2.4.3.6): packet_start_code_prefix 0x000001, stream_id,
 * PES_packet_length, then for media streams the optional header with PTS and DTS.
 */

/** start code (3) + stream_id + PES_packet_length + flags (2) + PES_header_data_length. */
const FIXED_SIZE = 9;
const TIMESTAMP_SIZE = 5;
/** PES_packet_length is 16 bits; 0 ("unbounded") is allowed for video in a TS only. */
const MAX_PES_PACKET_LENGTH = 0xffff;

const PtsDtsFlags = { PtsOnly: 0x80, PtsAndDts: 0xc0 } as const;
const Prefix = { PtsOnly: 0x2, PtsBeforeDts: 0x3, Dts: 0x1 } as const;

export interface PesHeaderSpec {
  streamId: number;
  /** 90 kHz, wrapped to 33 bits when written. */
  pts90k: number;
  /** Omitted (PTS only) when null or equal to the PTS. */
  dts90k: number | null;
  /** Elementary stream bytes after the header. */
  payloadLength: number;
  /** Write PES_packet_length (audio) or 0, unbounded (video). A length past 65535 is written as 0. */
  bounded: boolean;
}

function hasDts(spec: PesHeaderSpec): boolean {
  return spec.dts90k !== null && spec.dts90k !== spec.pts90k;
}

export function pesHeaderSize(spec: PesHeaderSpec): number {
  return FIXED_SIZE + (hasDts(spec) ? 2 * TIMESTAMP_SIZE : TIMESTAMP_SIZE);
}

/** Writes the header at `offset`; returns its size. */
export function writePesHeader(buf: Buffer, offset: number, spec: PesHeaderSpec): number {
  const withDts = hasDts(spec);
  const headerDataLength = withDts ? 2 * TIMESTAMP_SIZE : TIMESTAMP_SIZE;
  const size = FIXED_SIZE + headerDataLength;
  const packetLength = size - 6 + spec.payloadLength;
  buf[offset] = 0;
  buf[offset + 1] = 0;
  buf[offset + 2] = 1;
  buf[offset + 3] = spec.streamId;
  buf.writeUInt16BE(spec.bounded && packetLength <= MAX_PES_PACKET_LENGTH ? packetLength : 0, offset + 4);
  // '10', not scrambled, priority 0, data_alignment_indicator 1 (an access unit starts here), no copyright, copy.
  buf[offset + 6] = 0x84;
  buf[offset + 7] = withDts ? PtsDtsFlags.PtsAndDts : PtsDtsFlags.PtsOnly;
  buf[offset + 8] = headerDataLength;
  writeTimestampField(buf, offset + 9, withDts ? Prefix.PtsBeforeDts : Prefix.PtsOnly, spec.pts90k);
  if (withDts) writeTimestampField(buf, offset + 9 + TIMESTAMP_SIZE, Prefix.Dts, spec.dts90k!);
  return size;
}

export interface PesHeader {
  streamId: number;
  /** PES_packet_length: bytes after this field, 0 when unbounded. */
  packetLength: number;
  pts90k: number | null;
  /** Equal to the PTS when the header carries no DTS; null without PTS. */
  dts90k: number | null;
  /** Offset of the elementary stream data. */
  headerSize: number;
}

/** stream_ids without the optional header (§2.4.3.6, the stream_id test before PES_scrambling_control). */
const NO_OPTIONAL_HEADER: ReadonlySet<number> = new Set([0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xf2, 0xf8, 0xff]);

function bad(message: string): ProtocolError {
  return new ProtocolError(TsErrorCode.BadPesHeader, `PES header: ${message}`);
}

/** Parses the header at the start of a reassembled PES packet. Raises TS_BAD_PES_HEADER. */
export function parsePesHeader(buf: Buffer): PesHeader {
  if (buf.length < 6) throw bad(`${buf.length} bytes, need at least 6`);
  if (buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 1) throw bad('no packet_start_code_prefix');
  const streamId = buf[3]!;
  const packetLength = buf.readUInt16BE(4);
  if (NO_OPTIONAL_HEADER.has(streamId)) {
    return { streamId, packetLength, pts90k: null, dts90k: null, headerSize: 6 };
  }
  if (buf.length < FIXED_SIZE) throw bad(`${buf.length} bytes, need ${FIXED_SIZE} for the optional header`);
  if ((buf[6]! & 0xc0) !== 0x80) throw bad(`marker bits '${(buf[6]! >>> 6).toString(2)}', expected '10'`);
  const flags = buf[7]! >>> 6;
  const headerSize = FIXED_SIZE + buf[8]!;
  if (flags === 1) throw bad('PTS_DTS_flags 01 is forbidden');
  const needed = FIXED_SIZE + (flags === 3 ? 2 : flags === 2 ? 1 : 0) * TIMESTAMP_SIZE;
  if (headerSize < needed) throw bad(`PES_header_data_length ${buf[8]} too short for its timestamps`);
  if (buf.length < headerSize) throw bad(`header of ${headerSize} bytes in a ${buf.length}-byte packet`);
  const pts90k = flags >= 2 ? readTimestampField(buf, FIXED_SIZE) : null;
  const dts90k = flags === 3 ? readTimestampField(buf, FIXED_SIZE + TIMESTAMP_SIZE) : pts90k;
  return { streamId, packetLength, pts90k, dts90k, headerSize };
}
