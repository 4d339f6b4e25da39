import { INTERLEAVED_HEADER_BYTES, MAX_INTERLEAVED_PACKET, writeInterleavedHeader } from './interleaved.ts';
import { RTP_HEADER_BYTES, writeRtpHeader } from './packet.ts';
import type { RtpPayload } from './payload.ts';

export interface RtpTrackOutputOptions {
  payloadType: number;
  clockRate: number;
  ssrc: number;
  initialSequence: number;
  /** RTSP interleaved channel of the RTP packets (RTCP goes on channel + 1). */
  channel: number;
}

/**
 * The RTP serializer of one track of one stream: one SSRC and one sequence space, shared by
 * every viewer (serialize once, send many). The counters feed the RTCP sender report.
 */
export class RtpTrackOutput {
  readonly ssrc: number;
  readonly clockRate: number;
  private readonly payloadType: number;
  private readonly channel: number;
  private seq: number;
  private packets = 0;
  private octets = 0;
  private lastTs = 0;

  constructor(opts: RtpTrackOutputOptions) {
    this.payloadType = opts.payloadType & 0x7f;
    this.clockRate = opts.clockRate;
    this.ssrc = opts.ssrc >>> 0;
    this.seq = opts.initialSequence & 0xffff;
    this.channel = opts.channel;
  }

  get nextSequence(): number {
    return this.seq;
  }
  /** RFC 3550 §6.4.1 sender's packet count (wraps at 2^32 as on the wire). */
  get packetCount(): number {
    return this.packets;
  }
  /** RFC 3550 §6.4.1 sender's octet count: payload octets, headers and padding excluded. */
  get octetCount(): number {
    return this.octets;
  }
  get lastRtpTimestamp(): number {
    return this.lastTs;
  }

  /**
   * Every payload as one RTP packet (next sequence numbers, `rtpTimestamp` plus the payload's
   * `rtpTimestampOffset`, this SSRC), each behind its interleaved header, in one new Buffer.
   * UDP senders strip the 4-byte headers (`forEachInterleaved`).
   */
  write(payloads: readonly RtpPayload[], rtpTimestamp: number): Buffer {
    let size = 0;
    for (const p of payloads) {
      // Checked before anything is written, so a bad call leaves the sequence space untouched.
      if (RTP_HEADER_BYTES + p.byteLength > MAX_INTERLEAVED_PACKET) {
        throw new RangeError(`RTP payload of ${p.byteLength} bytes does not fit an interleaved record`);
      }
      size += INTERLEAVED_HEADER_BYTES + RTP_HEADER_BYTES + p.byteLength;
    }
    const out = Buffer.allocUnsafe(size);
    let pos = 0;
    for (const p of payloads) {
      writeInterleavedHeader(out, pos, this.channel, RTP_HEADER_BYTES + p.byteLength);
      pos += INTERLEAVED_HEADER_BYTES;
      const timestamp = (rtpTimestamp + (p.rtpTimestampOffset ?? 0)) >>> 0;
      writeRtpHeader(out, pos, {
        marker: p.marker,
        payloadType: this.payloadType,
        sequenceNumber: this.seq,
        timestamp,
        ssrc: this.ssrc,
      });
      pos += RTP_HEADER_BYTES;
      for (const part of p.parts) {
        out.set(part, pos);
        pos += part.length;
      }
      this.seq = (this.seq + 1) & 0xffff;
      this.packets = (this.packets + 1) >>> 0;
      this.octets = (this.octets + p.byteLength) >>> 0;
      this.lastTs = timestamp;
    }
    return out;
  }
}
