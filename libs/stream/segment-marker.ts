import { MediaKind } from './media.ts';

/**
 * Where an HLS segment starts, decided once by the stream's owner and carried with the frame
 * (to an edge over its relay), so every node cuts the same frames into segments with the same
 * numbers and names, whenever it joined.
 */
export interface SegmentMark {
  /** Segment number on this timeline (0, 1, 2, ...). */
  readonly seq: number;
  /** The owner's timeline: segment names carry it, so numbers never collide across owners. */
  readonly timeline: string;
  /** The frame's timestamp on the owner's timeline (an edge's own timeline may be shifted). */
  readonly ts: number;
  /** The first segment after a publisher change. */
  readonly discontinuity: boolean;
  /** The segment starts on a key frame (false only for a cut forced by a very long GOP). */
  readonly independent: boolean;
}

export interface SegmentMarkerOptions {
  /** A segment is cut at the first key frame once it is this long; 0 turns marking off. */
  targetMs: number;
  /** Without a key frame, a segment is cut at the next video frame once it is this long. */
  maxMs: number;
}

/**
 * The owner's cut policy. Video streams cut at key frames once the segment reached the target
 * (or at any video frame past the maximum); audio-only streams cut at audio frames. The first
 * frame after a publisher change starts a segment (a key frame, or audio on audio-only streams).
 */
export class SegmentMarker {
  private readonly opts: SegmentMarkerOptions;
  private timeline: string;
  private nextSeq = 0;
  private startTs = -1;
  private pendingDiscontinuity = false;
  /** Video was seen since the current publisher started: only video frames cut then. */
  private videoSeen = false;
  /** The open segment was started by audio (before any video): the first key frame cuts. */
  private startedOnAudio = false;

  constructor(opts: SegmentMarkerOptions, timeline: string) {
    this.opts = opts;
    this.timeline = timeline;
  }

  get enabled(): boolean {
    return this.opts.targetMs > 0;
  }

  /** A new publisher: the next segment starts at its first key frame and follows a discontinuity. */
  publisherChanged(timeline?: string): void {
    if (timeline !== undefined && timeline !== this.timeline) {
      this.timeline = timeline;
      this.nextSeq = 0;
      this.pendingDiscontinuity = false;
    } else {
      this.pendingDiscontinuity = this.startTs >= 0;
    }
    this.startTs = -1;
    this.videoSeen = false;
    this.startedOnAudio = false;
  }

  /** The mark for an audio or video frame that starts a segment, or null. */
  mark(kind: MediaKind, ts: number, isKeyFrame: boolean, hasVideoHeader: boolean): SegmentMark | null {
    if (!this.enabled) return null;
    if (kind === MediaKind.Video) this.videoSeen = true;
    const video = this.videoSeen || hasVideoHeader;
    let cut: boolean;
    let independent = true;
    if (video) {
      if (kind !== MediaKind.Video) return null;
      if (this.startTs < 0 || this.startedOnAudio) cut = isKeyFrame;
      else {
        const len = ts - this.startTs;
        cut = isKeyFrame ? len >= this.opts.targetMs : len >= this.opts.maxMs;
        independent = isKeyFrame;
      }
    } else {
      if (kind !== MediaKind.Audio) return null;
      cut = this.startTs < 0 || ts - this.startTs >= this.opts.targetMs;
    }
    if (!cut) return null;
    this.startTs = ts;
    this.startedOnAudio = !video;
    const m: SegmentMark = {
      seq: this.nextSeq++,
      timeline: this.timeline,
      ts,
      discontinuity: this.pendingDiscontinuity,
      independent,
    };
    this.pendingDiscontinuity = false;
    return m;
  }
}
