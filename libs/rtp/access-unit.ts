import { ProtocolError } from '../errors/protocol-error.ts';
import { RtpErrorCode } from './errors.ts';
import type { RtpPacket } from './packet.ts';

/** What depacketizers emit: one access unit (a picture or one AAC frame). */
export interface AccessUnit {
  rtpTimestamp: number;
  /**
   * NAL units without start codes (H.264/H.265), or one raw AAC frame. Whole NAL units and AAC
   * frames are views of the packets' payloads (zero-copy); reassembled fragments are new Buffers.
   */
  units: Buffer[];
  /** H.264 IDR / H.265 IRAP present; always true for audio. */
  keyFrame: boolean;
}

/** A video access unit bigger than this is refused: bounded memory whatever a sender claims. */
export const MAX_VIDEO_AU_BYTES = 8 * 1024 * 1024;
/** NAL units per access unit (a picture has a handful of slices plus parameter sets and SEI). */
export const MAX_NALS_PER_AU = 1024;

/**
 * The codec-independent half of the H.264 and H.265 depacketizers: access unit boundaries
 * (marker bit, timestamp change: RFC 6184 §5.1, RFC 7798 §4.1), sequence gaps, fragment
 * reassembly into one growing buffer, limits, and "wait for a key frame after loss".
 */
export class NalAuAssembler {
  droppedUnits = 0;
  private readonly isKey: (nalu: Buffer) => boolean;
  /** Timestamp of the access unit in progress; null between access units. */
  private ts: number | null = null;
  private nalus: Buffer[] = [];
  private bytes = 0;
  /** A packet of the access unit in progress is missing: it is dropped when it ends. */
  private damaged = false;
  private waitKey = true;
  private expectedSeq: number | null = null;
  private frag = Buffer.alloc(0);
  private fragLen = 0;
  private fragActive = false;

  constructor(isKey: (nalu: Buffer) => boolean) {
    this.isKey = isKey;
  }

  /** First step for every packet: a sequence gap is a loss; a new timestamp ends the access unit. */
  begin(pkt: RtpPacket, out: AccessUnit[]): void {
    const gap = this.expectedSeq !== null && pkt.sequenceNumber !== this.expectedSeq;
    if (gap) this.lost();
    this.expectedSeq = (pkt.sequenceNumber + 1) & 0xffff;
    if (this.ts !== null && pkt.timestamp !== this.ts) this.finish(out);
    if (this.ts === null) {
      this.ts = pkt.timestamp;
      // Packets lost just before a new access unit may have been its first ones (the parameter
      // sets and first slices of a key frame): it cannot be trusted whole. When they were whole
      // frames instead, this costs the rest of a GOP, which waiting for a key frame costs anyway.
      if (gap) this.damaged = true;
    }
  }

  addNal(nalu: Buffer): void {
    if (this.nalus.length >= MAX_NALS_PER_AU) {
      this.fail(RtpErrorCode.TooManyNals, `more than ${MAX_NALS_PER_AU} NAL units in one access unit`);
    }
    this.grow(nalu.length);
    this.nalus.push(nalu);
  }

  /** A start fragment: `header` is the rebuilt NAL unit header. */
  startFragment(header: Buffer): void {
    // A start while a fragment is open means its end was lost.
    if (this.fragActive) {
      this.damaged = true;
      this.bytes -= this.fragLen;
    }
    this.fragActive = true;
    this.fragLen = 0;
    this.append(header);
  }

  appendFragment(data: Buffer, end: boolean): void {
    if (!this.fragActive) {
      // Continuation of a fragment whose start was lost: this access unit is incomplete.
      this.damaged = true;
      return;
    }
    this.append(data);
    if (!end) return;
    const nalu = this.frag.subarray(0, this.fragLen);
    // The NAL keeps this buffer; the next fragment gets a new one.
    this.frag = Buffer.alloc(0);
    this.fragActive = false;
    this.bytes -= this.fragLen;
    this.fragLen = 0;
    this.addNal(nalu);
  }

  /** The marker bit: the access unit is complete. */
  end(out: AccessUnit[]): void {
    this.finish(out);
  }

  /** A loss: the access unit in progress is dropped, then everything until a key frame. */
  lost(): void {
    if (this.ts !== null) this.damaged = true;
    this.fragActive = false;
    this.bytes -= this.fragLen;
    this.fragLen = 0;
    this.waitKey = true;
  }

  /** Drops the state a bad packet left and raises the error. */
  fail(code: string, message: string): never {
    this.lost();
    throw new ProtocolError(code, message);
  }

  private finish(out: AccessUnit[]): void {
    if (this.ts === null) return;
    if (this.fragActive) this.damaged = true;
    if (this.damaged) {
      this.droppedUnits++;
    } else if (this.nalus.length > 0) {
      const keyFrame = this.nalus.some(this.isKey);
      if (this.waitKey && !keyFrame) {
        this.droppedUnits++;
      } else {
        this.waitKey = false;
        out.push({ rtpTimestamp: this.ts, units: this.nalus, keyFrame });
      }
    }
    this.ts = null;
    this.nalus = [];
    this.bytes = 0;
    this.damaged = false;
    this.fragActive = false;
    this.fragLen = 0;
  }

  private grow(n: number): void {
    if (this.bytes + n > MAX_VIDEO_AU_BYTES) {
      this.fail(RtpErrorCode.FrameTooLarge, `access unit over ${MAX_VIDEO_AU_BYTES} bytes`);
    }
    this.bytes += n;
  }

  private append(data: Buffer): void {
    this.grow(data.length);
    const need = this.fragLen + data.length;
    if (need > this.frag.length) {
      // Doubling keeps copies linear; the cap above keeps the buffer within the AU limit.
      const next = Buffer.allocUnsafe(
        Math.min(MAX_VIDEO_AU_BYTES, Math.max(need, 2 * this.frag.length, 4096)),
      );
      this.frag.copy(next, 0, 0, this.fragLen);
      this.frag = next;
    }
    data.copy(this.frag, this.fragLen);
    this.fragLen = need;
  }
}
