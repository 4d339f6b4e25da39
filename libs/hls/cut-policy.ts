/**
 * Where a leading segmenter cuts (pure: the decision depends only on the frames seen, never on
 * a clock, so every run over the same frames cuts at the same places).
 */
export interface CutPolicyOptions {
  /** Cut at the first video key frame (audio frame for audio-only) once a segment is this long. */
  targetMs: number;
  /** Without a key frame, cut at the next video frame once a segment is this long. */
  maxSegmentMs: number;
  /**
   * A key frame this much before the target still cuts: ms timestamps of 30 fps (or 29.97)
   * streams put 2 s GOPs at 1999 or 2001 ms, and missing the cut by 1 ms would double the segment.
   */
  toleranceMs: number;
}

export const DEFAULT_TARGET_MS = 2000;
export const DEFAULT_CUT_TOLERANCE_MS = 10;

export const Cut = {
  /** Add the frame to the open segment. */
  Append: 0,
  /** Close the open segment (if any) and start a new one with this frame; it is independent. */
  Cut: 1,
  /** As Cut, but the new segment does not start with a key frame (no key frame came in time). */
  Forced: 2,
  /** No segment is open and this frame cannot start one (video that is not a key frame). */
  Drop: 3,
} as const;
export type Cut = (typeof Cut)[keyof typeof Cut];

/** What the policy knows of the stream and the open segment. */
export interface CutState {
  /** Timestamp of the open segment's first frame, or null when none is open. */
  readonly openStartMs: number | null;
  /** A video header or frame was seen since the stream (or the current publisher) started. */
  readonly hasVideo: boolean;
  /** Timestamp of the last video frame, -1 if none yet. */
  readonly lastVideoMs: number;
  /** Timestamp of the first audio/video frame since the stream (or the current publisher) started. */
  readonly firstFrameMs: number;
  /** A publisher change was marked: the next possible start cuts, whatever the duration. */
  readonly discontinuity: boolean;
}

export interface CutFrame {
  readonly kind: number;
  readonly timestampMs: number;
  readonly isKeyFrame: boolean;
}

const VIDEO = 9;

/**
 * Video counts as flowing when a video frame came within maxSegmentMs (or, before the first one,
 * a video header was seen less than maxSegmentMs ago). When it does not, audio cuts as in an
 * audio-only stream, so a stream whose video stopped still gets segments.
 */
function videoFlowing(p: CutPolicyOptions, s: CutState, ts: number): boolean {
  if (!s.hasVideo) return false;
  const since = s.lastVideoMs >= 0 ? s.lastVideoMs : s.firstFrameMs;
  return ts - since < p.maxSegmentMs;
}

/** The lead-mode decision for one audio or video frame (not sequence headers or metadata). */
export function decideCut(p: CutPolicyOptions, s: CutState, f: CutFrame): Cut {
  const ts = f.timestampMs;
  if (f.kind === VIDEO) {
    if (s.openStartMs === null) return f.isKeyFrame ? Cut.Cut : Cut.Drop;
    const elapsed = ts - s.openStartMs;
    if (f.isKeyFrame && (s.discontinuity || elapsed >= p.targetMs - p.toleranceMs)) return Cut.Cut;
    if (!f.isKeyFrame && elapsed >= p.maxSegmentMs) return Cut.Forced;
    return Cut.Append;
  }
  if (videoFlowing(p, s, ts)) return s.openStartMs === null ? Cut.Drop : Cut.Append;
  // Audio-only (or video stalled): any audio frame can start a segment.
  if (s.openStartMs === null) return Cut.Cut;
  if (s.discontinuity || ts - s.openStartMs >= p.targetMs - p.toleranceMs) return Cut.Cut;
  return Cut.Append;
}
