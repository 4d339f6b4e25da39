/**
 * Unwraps one track's 32-bit RTP timestamps (RFC 3550 §5.1: random start, wraps at 2^32) to
 * milliseconds since the first timestamp seen. Each step is taken as the signed 32-bit
 * difference from the previous timestamp, so small steps back (B-frames sent in decode order
 * with presentation timestamps) stay small and the 2^32 wrap is seamless. Results are
 * fractional ms (90 kHz ticks are 1/90 ms), exact integers of ticks internally up to 2^53.
 */
export class RtpTimeline {
  readonly clockRate: number;
  private first: number | null = null;
  private lastTs = 0;
  private lastTicks = 0;

  constructor(clockRate: number) {
    if (!(clockRate > 0) || !Number.isFinite(clockRate)) throw new RangeError(`clock rate ${clockRate}`);
    this.clockRate = clockRate;
  }

  /** Ticks since the first timestamp (may be negative after a step back from the start). */
  toTicks(rtpTimestamp: number): number {
    const ts = rtpTimestamp >>> 0;
    if (this.first === null) {
      this.first = ts;
      this.lastTs = ts;
      this.lastTicks = 0;
      return 0;
    }
    this.lastTicks += (ts - this.lastTs) | 0;
    this.lastTs = ts;
    return this.lastTicks;
  }

  /** Milliseconds since the first timestamp seen; fractional. */
  toMs(rtpTimestamp: number): number {
    return (this.toTicks(rtpTimestamp) * 1000) / this.clockRate;
  }
}

const U32 = 2 ** 32;

/** `ms` on a `clockRate` clock starting at `offset`, as a wrapped u32 RTP timestamp. */
export function msToRtp(ms: number, clockRate: number, offset: number): number {
  const ticks = Math.round((ms * clockRate) / 1000) + offset;
  return ((ticks % U32) + U32) % U32;
}
