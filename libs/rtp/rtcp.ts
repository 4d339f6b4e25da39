import { ProtocolError } from '../errors/protocol-error.ts';
import { RtpErrorCode } from './errors.ts';

/** RFC 3550 §12.1 RTCP packet types. */
export const RtcpType = { Sr: 200, Rr: 201, Sdes: 202, Bye: 203, App: 204 } as const;

export interface RtcpReportBlock {
  ssrc: number;
  /** 8-bit fixed point fraction (§6.4.1). */
  fractionLost: number;
  /** 24-bit signed (§6.4.1: may be negative with duplicates). */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | seq). */
  highestSequence: number;
  jitter: number;
  /** Middle 32 bits of the last SR's NTP timestamp. */
  lastSr: number;
  /** In units of 1/65536 s. */
  delaySinceLastSr: number;
}

export type RtcpPacket =
  | {
      type: 'sr';
      ssrc: number;
      ntpMsw: number;
      ntpLsw: number;
      rtpTimestamp: number;
      packetCount: number;
      octetCount: number;
      reports: RtcpReportBlock[];
    }
  | { type: 'rr'; ssrc: number; reports: RtcpReportBlock[] }
  | { type: 'bye'; ssrcs: number[] }
  | { type: 'other'; packetType: number };

const HEADER_BYTES = 4;
const REPORT_BLOCK_BYTES = 24;
const SR_INFO_BYTES = 24; // SSRC + NTP (8) + RTP ts + packet count + octet count

/**
 * A compound RTCP packet (RFC 3550 §6.1): every packet's header is checked (version 2, length
 * within the buffer, counts that fit the length, padding only where its count fits). SDES, APP
 * and unknown types are returned as 'other'. An empty buffer is malformed.
 */
export function parseRtcp(buf: Buffer): RtcpPacket[] {
  if (buf.length === 0) throw new ProtocolError(RtpErrorCode.RtcpTruncated, 'empty RTCP packet');
  const out: RtcpPacket[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (pos + HEADER_BYTES > buf.length) {
      throw new ProtocolError(RtpErrorCode.RtcpTruncated, `RTCP header at ${pos} truncated`);
    }
    const b0 = buf[pos]!;
    if (b0 >>> 6 !== 2) throw new ProtocolError(RtpErrorCode.BadRtcpVersion, `RTCP version ${b0 >>> 6}`);
    const count = b0 & 0x1f;
    const packetType = buf[pos + 1]!;
    // §6.4.1: length in 32-bit words minus one, header included.
    const length = (buf.readUInt16BE(pos + 2) + 1) * 4;
    if (pos + length > buf.length) {
      throw new ProtocolError(
        RtpErrorCode.RtcpTruncated,
        `RTCP packet at ${pos} of ${length} bytes truncated`,
      );
    }
    let end = pos + length;
    if ((b0 & 0x20) !== 0) {
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > length - HEADER_BYTES) {
        throw new ProtocolError(
          RtpErrorCode.BadRtcp,
          `RTCP padding of ${pad} bytes in a ${length}-byte packet`,
        );
      }
      end -= pad;
    }
    out.push(parseOne(buf, pos + HEADER_BYTES, end, packetType, count));
    pos += length;
  }
  return out;
}

function parseOne(buf: Buffer, start: number, end: number, packetType: number, count: number): RtcpPacket {
  const need = (bytes: number, what: string): void => {
    if (start + bytes > end) {
      throw new ProtocolError(RtpErrorCode.BadRtcp, `RTCP ${what}: need ${bytes} bytes, have ${end - start}`);
    }
  };
  switch (packetType) {
    case RtcpType.Sr: {
      need(SR_INFO_BYTES + count * REPORT_BLOCK_BYTES, `SR with ${count} report blocks`);
      return {
        type: 'sr',
        ssrc: buf.readUInt32BE(start),
        ntpMsw: buf.readUInt32BE(start + 4),
        ntpLsw: buf.readUInt32BE(start + 8),
        rtpTimestamp: buf.readUInt32BE(start + 12),
        packetCount: buf.readUInt32BE(start + 16),
        octetCount: buf.readUInt32BE(start + 20),
        reports: readReports(buf, start + SR_INFO_BYTES, count),
      };
    }
    case RtcpType.Rr: {
      need(4 + count * REPORT_BLOCK_BYTES, `RR with ${count} report blocks`);
      return { type: 'rr', ssrc: buf.readUInt32BE(start), reports: readReports(buf, start + 4, count) };
    }
    case RtcpType.Bye: {
      // §6.6: SC SSRCs, then an optional reason (ignored).
      need(count * 4, `BYE with ${count} SSRCs`);
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(buf.readUInt32BE(start + 4 * i));
      return { type: 'bye', ssrcs };
    }
    default:
      return { type: 'other', packetType };
  }
}

function readReports(buf: Buffer, at: number, count: number): RtcpReportBlock[] {
  const out: RtcpReportBlock[] = [];
  for (let i = 0; i < count; i++, at += REPORT_BLOCK_BYTES) {
    out.push({
      ssrc: buf.readUInt32BE(at),
      fractionLost: buf[at + 4]!,
      cumulativeLost: buf.readIntBE(at + 5, 3),
      highestSequence: buf.readUInt32BE(at + 8),
      jitter: buf.readUInt32BE(at + 12),
      lastSr: buf.readUInt32BE(at + 16),
      delaySinceLastSr: buf.readUInt32BE(at + 20),
    });
  }
  return out;
}

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;
/** §6.4: RC and SC are 5-bit counts. */
const MAX_REPORT_BLOCKS = 31;
/** §6.5: an SDES item's length is one octet. */
const MAX_CNAME_BYTES = 255;

/** A wall-clock time in Unix ms as a 64-bit NTP timestamp (§4): seconds and 2^-32 fractions. */
export function ntpFromUnixMs(unixMs: number): { msw: number; lsw: number } {
  const seconds = Math.floor(unixMs / 1000);
  const fraction = (unixMs - seconds * 1000) / 1000;
  return { msw: ((seconds + NTP_UNIX_OFFSET_S) % 2 ** 32) >>> 0, lsw: Math.floor(fraction * 2 ** 32) >>> 0 };
}

/** SR (§6.4.1) + SDES CNAME (§6.5.1) compound, as §6.1 requires. */
export function buildSenderReport(o: {
  ssrc: number;
  ntpTimeMs: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  cname: string;
}): Buffer {
  const sr = Buffer.alloc(28);
  writeHeader(sr, 0, RtcpType.Sr, 0, sr.length);
  const ntp = ntpFromUnixMs(o.ntpTimeMs);
  sr.writeUInt32BE(o.ssrc >>> 0, 4);
  sr.writeUInt32BE(ntp.msw, 8);
  sr.writeUInt32BE(ntp.lsw, 12);
  sr.writeUInt32BE(o.rtpTimestamp >>> 0, 16);
  sr.writeUInt32BE(o.packetCount >>> 0, 20);
  sr.writeUInt32BE(o.octetCount >>> 0, 24);
  return Buffer.concat([sr, sdesCname(o.ssrc, o.cname)]);
}

/** RR (§6.4.2) with up to 31 report blocks + SDES CNAME compound. */
export function buildReceiverReport(o: { ssrc: number; reports: RtcpReportBlock[]; cname: string }): Buffer {
  const reports = o.reports.slice(0, MAX_REPORT_BLOCKS);
  const rr = Buffer.alloc(8 + 24 * reports.length);
  writeHeader(rr, 0, RtcpType.Rr, reports.length, rr.length);
  rr.writeUInt32BE(o.ssrc >>> 0, 4);
  reports.forEach((r, i) => {
    const at = 8 + 24 * i;
    rr.writeUInt32BE(r.ssrc >>> 0, at);
    rr[at + 4] = r.fractionLost & 0xff;
    // 24-bit signed, clamped (§6.4.1 / A.3).
    rr.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(r.cumulativeLost))), at + 5, 3);
    rr.writeUInt32BE(r.highestSequence >>> 0, at + 8);
    rr.writeUInt32BE(r.jitter >>> 0, at + 12);
    rr.writeUInt32BE(r.lastSr >>> 0, at + 16);
    rr.writeUInt32BE(r.delaySinceLastSr >>> 0, at + 20);
  });
  return Buffer.concat([rr, sdesCname(o.ssrc, o.cname)]);
}

function writeHeader(b: Buffer, at: number, type: number, count: number, length: number): void {
  b[at] = 0x80 | count;
  b[at + 1] = type;
  b.writeUInt16BE(length / 4 - 1, at + 2);
}

/** One SDES chunk: SSRC, CNAME item, then a null item and zero padding to a 32-bit boundary (§6.5). */
function sdesCname(ssrc: number, cname: string): Buffer {
  let text = Buffer.from(cname, 'utf8');
  if (text.length > MAX_CNAME_BYTES) text = text.subarray(0, MAX_CNAME_BYTES);
  const chunk = 4 + 2 + text.length + 1; // + at least one null octet ending the item list
  const length = 4 + Math.ceil(chunk / 4) * 4;
  const b = Buffer.alloc(length);
  writeHeader(b, 0, RtcpType.Sdes, 1, length);
  b.writeUInt32BE(ssrc >>> 0, 4);
  b[8] = 1; // CNAME
  b[9] = text.length;
  text.copy(b, 10);
  return b;
}
