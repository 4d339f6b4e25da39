import { Proto } from './args.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import type { Spread } from './report.ts';

/**
 * Send times are kept for this many milliseconds of media timestamps (a power of two, so a
 * timestamp's slot is its value modulo the size): 16 s, well past the 2 s GOP cache burst and
 * the lag at which a player counts as fallen behind. Older frames find no send time.
 */
const SLOTS = 16_384;

/** What the probe saw in the window: added latency over all frames of all players. */
export interface LatencySummary {
  ms: Spread | null;
  /** Frames whose latency was recorded. */
  frames: number;
  /** Frames received in the window whose timestamp the publisher had not stamped (or too long ago). */
  unmatched: number;
}

/**
 * The bench's latency probe: one histogram for every player of a run. Each publisher gets its
 * own send-time table (`stream()`), and its players look their frames up in that table only:
 * the streams of --grid publish the same file, so the same timestamps at different times.
 * Publishers and players run in this process, on one clock, so receive minus send is what the
 * server (and this process's own event loop) added.
 */
export class LatencyProbe {
  readonly histogram = new LatencyHistogram();
  /** Only frames received while this is set are recorded (the measurement window). */
  active = false;
  private unmatchedFrames = 0;

  /** A send-time table for one more stream: its publisher stamps, its players look up. */
  stream(): StreamLatency {
    return new StreamLatency(this);
  }

  /** A frame without a send time (called by StreamLatency in the window only). */
  miss(): void {
    this.unmatchedFrames++;
  }

  summary(): LatencySummary {
    return { ms: this.histogram.spread(), frames: this.histogram.count, unmatched: this.unmatchedFrames };
  }
}

/**
 * One stream's send times: the publisher stamps each audio/video tag it writes with the
 * monotonic time just after the socket write, keyed by the tag's timestamp (audio and video
 * may share one: the first send counts); players report the time of the socket read in which a
 * frame's timestamp became known, and the difference goes to the probe's histogram.
 *
 * The table is direct-mapped by millisecond, two typed arrays: no allocation per frame, no
 * per-player state, and a frame older than SLOTS ms simply has no entry.
 */
export class StreamLatency {
  private readonly probe: LatencyProbe;
  private readonly stamp = new Float64Array(SLOTS).fill(-1);
  private readonly sentAt = new Float64Array(SLOTS);

  constructor(probe: LatencyProbe) {
    this.probe = probe;
  }

  /** The publisher wrote the tag with this timestamp at `atMs` (performance.now()). */
  sent(timestampMs: number, atMs: number): void {
    const i = timestampMs % SLOTS;
    if (this.stamp[i] === timestampMs) return;
    this.stamp[i] = timestampMs;
    this.sentAt[i] = atMs;
  }

  /** A player of this stream read the frame with this timestamp at `atMs`. */
  received(timestampMs: number, atMs: number): void {
    if (!this.probe.active) return;
    const i = timestampMs % SLOTS;
    if (this.stamp[i] !== timestampMs) this.probe.miss();
    else this.probe.histogram.record(atMs - this.sentAt[i]!);
  }
}

/** RTMP, FLV and TS players report frames; RTSP (the server's RTP clock) and HLS (segments) do not. */
export const measuresLatency = (proto: Proto): boolean => proto !== Proto.Rtsp && proto !== Proto.Hls;
