import { isPlayableKeyFrame } from '../bench/keyframe.ts';

/** Video tag bytes 0-1 describe a sequence header (legacy AVC/HEVC packet type 0, or Enhanced RTMP packet type 0). */
function isVideoConfig(b0: number, b1: number): boolean {
  if ((b0 & 0x80) !== 0) return (b0 & 0x0f) === 0;
  const codec = b0 & 0x0f;
  return (codec === 7 || codec === 12) && b1 !== 1;
}

/**
 * What a viewer must see, whatever the protocol: media soon after it started, a first video
 * frame that is a key frame (a valid start), timestamps that never go back within a media type
 * (across publisher restarts too), and no long silence. Times are performance.now().
 */
export class MediaCheck {
  readonly startedAt = performance.now();
  firstMediaAt = 0;
  firstKeyFrameAt = 0;
  lastMediaAt = 0;
  maxGapMs = 0;
  mediaTags = 0;
  /** Why the stream start was invalid (first video frame not a key frame), or null. */
  badStart: string | null = null;
  /** The first timestamp regression, or null. */
  regression: string | null = null;
  private readonly lastTs = new Map<number, number>();

  /** One audio (8), video (9) or script (18) message/tag with its first two body bytes. */
  onTag(type: number, timestampMs: number, b0: number, b1: number): void {
    if (type !== 8 && type !== 9) return;
    const now = performance.now();
    if (this.lastMediaAt > 0) this.maxGapMs = Math.max(this.maxGapMs, now - this.lastMediaAt);
    if (this.firstMediaAt === 0) this.firstMediaAt = now;
    this.lastMediaAt = now;
    this.mediaTags++;
    const prev = this.lastTs.get(type);
    if (prev !== undefined && timestampMs < prev && this.regression === null)
      this.regression = `${type === 9 ? 'video' : 'audio'} ${prev} -> ${timestampMs} ms`;
    this.lastTs.set(type, timestampMs);
    if (type === 9 && this.firstKeyFrameAt === 0 && !isVideoConfig(b0, b1)) {
      if (isPlayableKeyFrame(b0, b1)) this.firstKeyFrameAt = now;
      else this.badStart ??= `first video frame is not a key frame (bytes ${b0}, ${b1})`;
    }
  }

  /** ms from start to the first key frame, or null. */
  get firstKeyFrameMs(): number | null {
    return this.firstKeyFrameAt === 0 ? null : this.firstKeyFrameAt - this.startedAt;
  }

  /** The current silence, in ms (from the start when nothing came yet). */
  silenceMs(now = performance.now()): number {
    return now - (this.lastMediaAt || this.startedAt);
  }
}
