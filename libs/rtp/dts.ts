/**
 * Decode times for video that RTP carries with presentation times only (RFC 6184 §5.1: the
 * timestamp is the sampling time). Frames arrive in decoding order; with B-frames their
 * presentation times go back and forth, while FLV and MPEG-TS need a decode time that only
 * increases and never exceeds the presentation time.
 *
 * If no frame is decoded more than `depth` places after its place in display order, the k-th
 * frame can be decoded at the (k - depth)-th smallest presentation time: every frame displayed
 * at or before that position has arrived by then, so the value is known at frame k without
 * looking ahead, it increases with k, and it is at most frame k's own presentation time.
 * The depth is measured on the first frames (held back until `probeFrames` have come) and grows
 * if a later frame shows more reordering.
 */

export interface TimedFrame<T> {
  ptsMs: number;
  dtsMs: number;
  item: T;
}

/** Frames held at the start to see how far the encoder reorders (x264's B-pyramid needs 4). */
const PROBE_FRAMES = 6;
/** A presentation time this far behind the last decode time is a new timeline, not reordering. */
const DISCONTINUITY_MS = 5_000;
/** More reordering than any encoder uses (H.264 allows 16): a bound on what is held. */
const MAX_DEPTH = 16;

export class DtsEstimator<T> {
  private probing: { pts: number; item: T }[] | null = [];
  private depth = 0;
  /** Depth never measured below this again (after a frame showed more reordering). */
  private minDepth = 0;
  /** Presentation times received and not yet used as a decode time, ascending. */
  private readonly pending: number[] = [];
  private frames = 0;
  private lastDts = -Infinity;
  /** Frame duration guess, for the decode times of the first `depth` frames. */
  private frameMs = 40;
  /** Frames whose decode time had to be pushed past their presentation time (depth grew). */
  corrections = 0;

  get reorderDepth(): number {
    return this.depth;
  }

  /** A frame in decoding order; returns the frames now timed (in the same order). */
  push(ptsMs: number, item: T): TimedFrame<T>[] {
    if (this.probing) {
      this.probing.push({ pts: ptsMs, item });
      if (this.probing.length < PROBE_FRAMES) return [];
      return this.endProbe();
    }
    if (ptsMs < this.lastDts - DISCONTINUITY_MS) {
      this.restart();
      this.lastDts = -Infinity;
    }
    return [this.time(ptsMs, item)];
  }

  /** Times what is held (a publisher that stops after fewer than the probe frames). */
  flush(): TimedFrame<T>[] {
    return this.probing ? this.endProbe() : [];
  }

  private endProbe(): TimedFrame<T>[] {
    const held = this.probing ?? [];
    this.probing = null;
    const sorted = held.map((h) => h.pts).sort((a, b) => a - b);
    // How many places later than its display position each frame came.
    this.depth = this.minDepth;
    held.forEach((h, k) => {
      const displayed = sorted.indexOf(h.pts);
      this.depth = Math.max(this.depth, k - displayed);
    });
    this.depth = Math.min(this.depth, MAX_DEPTH);
    let step = Infinity;
    for (let i = 1; i < sorted.length; i++) {
      const d = sorted[i]! - sorted[i - 1]!;
      if (d > 0) step = Math.min(step, d);
    }
    if (Number.isFinite(step)) this.frameMs = step;
    return held.map((h) => this.time(h.pts, h.item));
  }

  /** Forgets the frames seen (a new timeline, or a re-measure); the last decode time stays as a floor. */
  private restart(): void {
    this.pending.length = 0;
    this.frames = 0;
    this.depth = this.minDepth;
  }

  private time(pts: number, item: T): TimedFrame<T> {
    insertSorted(this.pending, pts);
    const k = this.frames++;
    // The first `depth` frames: decode times a frame apart below the first one displayed.
    let dts = k >= this.depth ? this.pending.shift()! : this.pending[0]! - (this.depth - k) * this.frameMs;
    if (dts <= this.lastDts) {
      // Decode times must increase: this frame decodes just after the last one (its
      // composition time may go negative once). Right after a (re)start that is the seam with
      // the frames before; later it means the encoder reorders more than measured, and the
      // next frames are measured again with a deeper minimum.
      this.corrections++;
      dts = this.lastDts + 1;
      if (k > 2 * this.depth + 2 && this.depth < MAX_DEPTH) {
        this.minDepth = this.depth + 1;
        this.restart();
        this.probing = [];
      }
    }
    this.lastDts = dts;
    return { ptsMs: pts, dtsMs: dts, item };
  }
}

function insertSorted(a: number[], v: number): void {
  let i = a.length;
  while (i > 0 && a[i - 1]! > v) i--;
  a.splice(i, 0, v);
}
