import { buildReceiverReport, type RtcpReportBlock } from '../rtp/index.ts';

/**
 * What a receiver knows of one source for its reports (RFC 3550 §6.4.1, Appendix A.1/A.3):
 * the extended highest sequence number, expected vs received packets, and the last SR.
 */
export class TrackReception {
  ssrc: number | null = null;
  received = 0;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  /** Middle 32 bits of the last SR's NTP time, and when it came (performance.now()). */
  private lastSr = 0;
  private lastSrAt: number | null = null;

  /** One RTP packet's SSRC and sequence number. */
  rtp(ssrc: number, seq: number): void {
    if (this.ssrc !== ssrc) {
      // A new source (or the first packet): start counting afresh (§A.1 init_seq).
      this.ssrc = ssrc;
      this.baseSeq = seq;
      this.maxSeq = seq;
      this.cycles = 0;
      this.received = 0;
      this.expectedPrior = 0;
      this.receivedPrior = 0;
    }
    this.received++;
    const delta = (seq - this.maxSeq) & 0xffff;
    // Forward within half the space: in order (or a jump); else a late or duplicate packet.
    if (delta !== 0 && delta < 0x8000) {
      if (seq < this.maxSeq) this.cycles += 0x10000;
      this.maxSeq = seq;
    }
  }

  /** A sender report of this track's source (§6.4.1: LSR is the middle 32 bits of its NTP time). */
  senderReport(ntpMsw: number, ntpLsw: number, now: number): void {
    this.lastSr = (((ntpMsw & 0xffff) << 16) | (ntpLsw >>> 16)) >>> 0;
    this.lastSrAt = now;
  }

  /** The report block for the next RR (null before any packet); advances the interval counts. */
  reportBlock(now: number): RtcpReportBlock | null {
    if (this.ssrc === null) return null;
    const extendedMax = this.cycles + this.maxSeq;
    const expected = extendedMax - this.baseSeq + 1;
    const lost = expected - this.received;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost =
      expectedInterval <= 0 || lostInterval <= 0
        ? 0
        : Math.min(255, Math.floor((lostInterval << 8) / expectedInterval));
    return {
      ssrc: this.ssrc,
      fractionLost,
      cumulativeLost: lost,
      highestSequence: extendedMax >>> 0,
      jitter: 0,
      lastSr: this.lastSrAt === null ? 0 : this.lastSr,
      // Units of 1/65536 s (§6.4.1 DLSR).
      delaySinceLastSr:
        this.lastSrAt === null ? 0 : Math.min(0xffffffff, Math.round(((now - this.lastSrAt) / 1000) * 65536)),
    };
  }
}

/** One RR for a track (null before it received anything). */
export function receiverReport(ssrc: number, track: TrackReception, now: number): Buffer | null {
  const block = track.reportBlock(now);
  return block ? buildReceiverReport({ ssrc, cname: 'sluice', reports: [block] }) : null;
}
