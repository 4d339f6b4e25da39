import type { PacketSink, TsInputFrame } from '../mpegts/muxer.ts';
import { SegmentBuffer } from './segment-buffer.ts';
import { Cut, DEFAULT_CUT_TOLERANCE_MS, decideCut, type CutPolicyOptions } from './cut-policy.ts';
import { segmentName, type HlsSegment, type SegmentStart } from './segment.ts';

/** The frames the segmenter takes: FLV tag bodies on the 64-bit ms timeline (MediaMessage fits). */
export type SegmenterFrame = TsInputFrame;

/**
 * The slice of libs/mpegts TsMuxer the segmenter uses. resetContinuity() also makes the next
 * output start with PAT/PMT and a PCR, so a segment cut at any frame starts decodable PSI.
 */
export interface SegmentMuxer {
  mux(frame: SegmenterFrame): Buffer;
  /**
   * When the muxer has it (TsMuxer): the segmenter points it at the open segment's buffer for each
   * mux() call, so packets are written in place; without it, mux()'s Buffers are copied in.
   */
  output?: PacketSink | null;
  resetContinuity(): void;
  /** When present: a sequence header that raises these was not taken (codec not carried). */
  readonly stats?: { readonly unsupportedFrames: number; readonly badFrames: number };
}

export const SegmenterMode = { Lead: 'lead', Follow: 'follow' } as const;
export type SegmenterMode = (typeof SegmenterMode)[keyof typeof SegmenterMode];

/** Default byte bound of one segment: 2 s at 32 Mbit/s. */
export const DEFAULT_MAX_SEGMENT_BYTES = 8 * 1024 * 1024;

export interface SegmenterOptions {
  mode: SegmenterMode;
  /** Segment names are `<prefix><seq>.ts`. */
  prefix: string;
  /** Lead mode: the first segment's sequence number (then +1 each). Default 0. */
  firstSeq?: number;
  targetMs: number;
  /** Lead mode: cut at the next video frame once a segment is this long without a key frame. */
  maxSegmentMs: number;
  /**
   * Bound of the open segment's bytes (one frame may exceed it alone). Lead mode cuts before the
   * frame that would cross it (the new segment is not independent unless that frame is a key
   * frame); follow mode may not cut on its own, so it drops frames up to the next announced cut
   * and flags the segment `truncated`.
   */
  maxSegmentBytes: number;
  toleranceMs?: number;
  muxer: SegmentMuxer;
  /** A segment opened (its first frame): what an owner announces so edges cut the same frame. */
  onOpen?: (s: SegmentStart) => void;
  /** A segment is complete. */
  onSegment: (s: HlsSegment) => void;
}

/** Where a follow-mode segment starts: set on the frame the stream's owner cut at. */
export interface CutMark {
  readonly seq: number;
  /** The segment's name when the owner names it (default `<prefix><seq>.ts`). */
  readonly name?: string;
  readonly discontinuity?: boolean;
}

export interface SegmenterStats {
  segments: number;
  bytes: number;
  forcedCuts: number;
  /** Frames dropped: before the first cut, or past maxSegmentBytes in follow mode. */
  framesDropped: number;
  /** Segments that held no bytes (every frame in them was one the muxer could not carry): not emitted. */
  emptySegments: number;
  /** Follow mode: cut marks whose sequence number did not increase (ignored). */
  cutsRejected: number;
  /** Open segments dropped unfinished (abort()). */
  segmentsAborted: number;
}

const AUDIO = 8;
const VIDEO = 9;

/** A step between frames longer than this is a pause, not a frame interval (end estimates). */
const MAX_FRAME_STEP_MS = 1000;

/** A conservative size of a frame once muxed: 188-byte packets of 184 bytes, PES header, PAT+PMT. */
function muxedSizeBound(payloadBytes: number): number {
  return (Math.ceil((payloadBytes + 64) / 184) + 4) * 188;
}

class OpenSegment {
  readonly seq: number;
  readonly name: string;
  readonly startMs: number;
  readonly discontinuity: boolean;
  readonly independent: boolean;
  readonly data: SegmentBuffer;
  truncated = false;
  /** Last audio / video timestamp in this segment (-1: none). */
  lastAudioMs = -1;
  lastVideoMs = -1;

  get lastMs(): number {
    return Math.max(this.lastAudioMs, this.lastVideoMs);
  }

  get bytes(): number {
    return this.data.length;
  }

  constructor(s: SegmentStart, capacity: number) {
    this.data = new SegmentBuffer(capacity);
    this.seq = s.seq;
    this.name = s.name;
    this.startMs = s.startMs;
    this.discontinuity = s.discontinuity;
    this.independent = s.independent;
  }
}

/**
 * Cuts a stream's frames (timeline order) into MPEG-TS segments with one TsMuxer, whose codec
 * configuration carries across segments. Every segment starts with resetContinuity(), so its
 * bytes depend only on the frames it holds (and the codec configuration), never on a clock or
 * on where the segmenter started: in follow mode two segmenters fed the same frames from
 * different points produce identical bytes for every segment both complete.
 */
export class Segmenter {
  private readonly mode: SegmenterMode;
  private readonly prefix: string;
  private readonly policy: CutPolicyOptions;
  private readonly maxSegmentBytes: number;
  private readonly muxer: SegmentMuxer;
  /** The muxer writes into the open segment's buffer (SegmentMuxer.output). */
  private readonly inPlace: boolean;
  /** Size of the last segment closed (0: none yet): the next one's first capacity. */
  private lastSegmentBytes = 0;
  private readonly onOpen: ((s: SegmentStart) => void) | undefined;
  private readonly onSegment: (s: HlsSegment) => void;

  private nextSeq: number;
  private lastSeq = -Infinity;
  private open: OpenSegment | null = null;
  private discontinuity = false;
  /**
   * Per publisher: a video / audio sequence header the muxer took (a codec TS carries). Lead
   * mode cuts only on frames of such tracks: AV1 video beside AAC cuts like audio-only.
   */
  private hasVideo = false;
  private hasAudio = false;
  /**
   * Headers seen since markDiscontinuity (null: none pending). A new publisher sends its
   * headers before its first frame; a track that got none is gone. Without any header since the
   * mark (no new publisher after all) the tracks stay as they were.
   */
  private headersSinceMark: { video: boolean; audio: boolean } | null = null;
  private firstFrameMs = -1;
  private lastVideoMs = -1;
  /** Stream-wide last timestamp and last step per kind (for the closing segment's duration). */
  private lastAudioMs = -1;
  private audioStepMs = 0;
  private videoStepMs = 0;
  private lastVideoAnyMs = -1;

  readonly stats: SegmenterStats = {
    segments: 0,
    bytes: 0,
    forcedCuts: 0,
    framesDropped: 0,
    cutsRejected: 0,
    segmentsAborted: 0,
    emptySegments: 0,
  };

  constructor(opts: SegmenterOptions) {
    const firstSeq = opts.firstSeq ?? 0;
    if (!Number.isSafeInteger(firstSeq) || firstSeq < 0) {
      throw new RangeError(`firstSeq must be a non-negative integer, got ${firstSeq}`);
    }
    if (!(opts.targetMs > 0) || !(opts.maxSegmentMs >= opts.targetMs)) {
      throw new RangeError(`need 0 < targetMs <= maxSegmentMs, got ${opts.targetMs}, ${opts.maxSegmentMs}`);
    }
    if (!(opts.maxSegmentBytes > 0)) throw new RangeError(`maxSegmentBytes must be positive`);
    this.mode = opts.mode;
    this.prefix = opts.prefix;
    this.policy = {
      targetMs: opts.targetMs,
      maxSegmentMs: opts.maxSegmentMs,
      toleranceMs: opts.toleranceMs ?? DEFAULT_CUT_TOLERANCE_MS,
    };
    this.maxSegmentBytes = opts.maxSegmentBytes;
    this.muxer = opts.muxer;
    this.inPlace = opts.muxer.output !== undefined;
    this.onOpen = opts.onOpen;
    this.onSegment = opts.onSegment;
    this.nextSeq = firstSeq;
  }

  /** The open segment's sequence number, or null. */
  get openSeq(): number | null {
    return this.open?.seq ?? null;
  }

  /**
   * One frame in timeline order. Follow mode: `cut` on the frame that starts a segment. Lead
   * mode ignores `cut`. Never throws for any frame (a muxer error ends the caller's session).
   */
  push(frame: SegmenterFrame, cut?: CutMark): void {
    if (frame.kind !== AUDIO && frame.kind !== VIDEO) {
      this.muxInto(frame); // script data: the muxer carries none today
      return;
    }
    if (frame.isSequenceHeader) {
      // A codec the muxer does not carry turns the track off; a malformed header changes nothing.
      const taken = this.muxHeader(frame);
      if (taken !== null) {
        if (frame.kind === VIDEO) this.hasVideo = taken;
        else this.hasAudio = taken;
      }
      if (this.headersSinceMark) {
        if (frame.kind === VIDEO) this.headersSinceMark.video = true;
        else this.headersSinceMark.audio = true;
      }
      return;
    }
    const marked = this.headersSinceMark;
    if (marked) {
      if (marked.video || marked.audio) {
        this.hasVideo &&= marked.video;
        this.hasAudio &&= marked.audio;
      }
      this.headersSinceMark = null;
    }
    const ts = frame.timestampMs;
    if (this.mode === SegmenterMode.Lead && !(frame.kind === VIDEO ? this.hasVideo : this.hasAudio)) {
      // A track the muxer does not carry: it neither starts nor cuts segments.
      const open = this.open;
      if (open && !this.overBound(open, frame)) this.append(frame);
      else this.stats.framesDropped++;
      return;
    }
    if (this.firstFrameMs < 0) this.firstFrameMs = ts;
    // A jump of the timeline (either way, by more than maxSegmentMs) closes the open segment at
    // its last frame; the next one starts at the next cut with a discontinuity. Both modes do
    // this, so a follower's segment holds the same frames as its owner's.
    const open = this.open;
    if (open && Math.abs(ts - open.lastMs) > this.policy.maxSegmentMs) {
      this.close(open, this.estimatedEndMs(open));
      this.open = null;
      this.discontinuity = true;
    }

    const decision =
      this.mode === SegmenterMode.Lead ? this.leadDecision(frame) : this.followDecision(frame, cut);
    if (decision === Cut.Drop) {
      this.stats.framesDropped++;
    } else if (decision === Cut.Append) {
      this.append(frame);
    } else {
      const seq = this.mode === SegmenterMode.Lead ? this.nextSeq : cut!.seq;
      if (cut?.discontinuity) this.discontinuity = true;
      const independent = decision === Cut.Cut && (frame.kind === VIDEO ? frame.isKeyFrame : !this.hasVideo);
      if (decision === Cut.Forced) this.stats.forcedCuts++;
      this.cutAt(frame, seq, independent, this.mode === SegmenterMode.Follow ? cut?.name : undefined);
    }
    this.noteTiming(frame.kind, ts);
  }

  /** The publisher changed: the next segment carries the discontinuity and starts at once. */
  markDiscontinuity(): void {
    this.discontinuity = true;
    this.headersSinceMark = { video: false, audio: false };
    this.firstFrameMs = -1;
    this.lastVideoMs = -1;
  }

  /**
   * Drops the open segment without completing it (its frames are incomplete or mixed: a relay
   * restarted inside it, the owner's mark for the next one was lost). Frames are dropped until the
   * next cut, which is a discontinuity.
   */
  abort(): void {
    if (this.open) this.stats.segmentsAborted++;
    this.open = null;
    this.markDiscontinuity();
  }

  /** Closes the open segment (unpublish); the next one, if any, is a discontinuity. */
  end(): void {
    const open = this.open;
    if (open) this.close(open, this.estimatedEndMs(open));
    this.open = null;
    if (this.stats.segments > 0) this.markDiscontinuity();
  }

  private leadDecision(frame: SegmenterFrame): Cut {
    const d = decideCut(
      this.policy,
      {
        openStartMs: this.open?.startMs ?? null,
        hasVideo: this.hasVideo,
        lastVideoMs: this.lastVideoMs,
        firstFrameMs: this.firstFrameMs,
        discontinuity: this.discontinuity,
      },
      frame,
    );
    if (d !== Cut.Append) return d;
    // Byte bound: cut before the frame that would take the segment over it.
    if (this.overBound(this.open!, frame))
      return frame.kind === VIDEO && frame.isKeyFrame ? Cut.Cut : Cut.Forced;
    return d;
  }

  private followDecision(frame: SegmenterFrame, cut: CutMark | undefined): Cut {
    if (cut) {
      if (Number.isSafeInteger(cut.seq) && cut.seq > this.lastSeq) return Cut.Cut;
      this.stats.cutsRejected++;
    }
    const open = this.open;
    if (!open) return Cut.Drop;
    if (open.truncated) return Cut.Drop;
    if (this.overBound(open, frame)) {
      open.truncated = true;
      return Cut.Drop;
    }
    return Cut.Append;
  }

  private cutAt(frame: SegmenterFrame, seq: number, independent: boolean, name?: string): void {
    const prev = this.open;
    // A segment lasts until the next one starts, unless frames were dropped at its end.
    if (prev) this.close(prev, prev.truncated ? this.estimatedEndMs(prev) : frame.timestampMs);
    const start: SegmentStart = {
      seq,
      name: name ?? segmentName(this.prefix, seq),
      startMs: frame.timestampMs,
      discontinuity: this.discontinuity,
      independent,
    };
    this.discontinuity = false;
    this.lastSeq = seq;
    this.nextSeq = seq + 1;
    const capacity = Math.min(SegmentBuffer.capacityAfter(this.lastSegmentBytes), this.maxSegmentBytes);
    this.open = new OpenSegment(start, capacity);
    this.muxer.resetContinuity();
    this.append(frame);
    this.onOpen?.(start);
  }

  /**
   * Muxes `frame` into the open segment, so the segment's bytes and PSI stay consistent. With no
   * segment open (or a truncated one) its packets are dropped; the next cut resets the muxer.
   */
  private muxInto(frame: SegmenterFrame): void {
    const open = this.open;
    const target = open !== null && !open.truncated ? open.data : null;
    if (!this.inPlace) {
      const out = this.muxer.mux(frame);
      if (target !== null && out.length > 0) target.append(out);
      return;
    }
    const before = target?.length ?? 0;
    this.muxer.output = target;
    try {
      this.muxer.mux(frame);
    } catch (e) {
      // Packets it had room for but did not finish must not end up in the segment.
      target?.truncate(before);
      throw e;
    } finally {
      this.muxer.output = null;
    }
  }

  private append(frame: SegmenterFrame): void {
    const open = this.open!;
    this.muxInto(frame);
    if (frame.kind === VIDEO) open.lastVideoMs = frame.timestampMs;
    else open.lastAudioMs = frame.timestampMs;
  }

  /**
   * Muxes a sequence header: true when taken, false for a codec the muxer does not carry, null
   * for a malformed one (the muxer keeps what it had, or has nothing: either way not a new codec).
   */
  private muxHeader(frame: SegmenterFrame): boolean | null {
    const st = this.muxer.stats;
    const unsupported = st?.unsupportedFrames ?? 0;
    const bad = st?.badFrames ?? 0;
    // A frame flagged as a header that the muxer takes for a coded frame still yields packets.
    this.muxInto(frame);
    if (!st) return true;
    if (st.unsupportedFrames !== unsupported) return false;
    return st.badFrames !== bad ? null : true;
  }

  /** Appending this frame could take the open segment over maxSegmentBytes. */
  private overBound(open: OpenSegment, frame: SegmenterFrame): boolean {
    return open.bytes > 0 && open.bytes + muxedSizeBound(frame.payload.length) > this.maxSegmentBytes;
  }

  private close(open: OpenSegment, endMs: number): void {
    if (open.bytes === 0) {
      // Nothing the muxer could carry: a playlist must not list an empty file.
      this.stats.emptySegments++;
      return;
    }
    const bytes = open.data.finish();
    this.lastSegmentBytes = bytes.length;
    this.stats.segments++;
    this.stats.bytes += bytes.length;
    this.onSegment({
      seq: open.seq,
      name: open.name,
      startMs: open.startMs,
      durationMs: Math.max(0, endMs - open.startMs),
      discontinuity: open.discontinuity,
      independent: open.independent,
      truncated: open.truncated,
      bytes,
    });
  }

  /** Last frame of each kind in the segment plus that kind's frame interval. */
  private estimatedEndMs(open: OpenSegment): number {
    let end = open.startMs;
    if (open.lastVideoMs >= 0) end = Math.max(end, open.lastVideoMs + this.videoStepMs);
    if (open.lastAudioMs >= 0) end = Math.max(end, open.lastAudioMs + this.audioStepMs);
    return end;
  }

  private noteTiming(kind: number, ts: number): void {
    if (kind === VIDEO) {
      const step = ts - this.lastVideoAnyMs;
      if (this.lastVideoAnyMs >= 0 && step > 0 && step <= MAX_FRAME_STEP_MS) this.videoStepMs = step;
      this.lastVideoAnyMs = ts;
      this.lastVideoMs = ts;
    } else {
      const step = ts - this.lastAudioMs;
      if (this.lastAudioMs >= 0 && step > 0 && step <= MAX_FRAME_STEP_MS) this.audioStepMs = step;
      this.lastAudioMs = ts;
    }
  }
}
