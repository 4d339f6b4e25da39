/** One completed HLS segment: a self-contained MPEG-TS file (starts with PAT and PMT). */
export interface HlsSegment {
  /** Media sequence number (RFC 8216 §3: the playlist's EXT-X-MEDIA-SEQUENCE counts these). */
  readonly seq: number;
  /** File name and relative URI: `<prefix><seq>.ts`. */
  readonly name: string;
  /** Timeline timestamp of its first frame, ms. */
  readonly startMs: number;
  /** Next segment's first timestamp minus this one's (or last frame + one frame interval). */
  readonly durationMs: number;
  /** First segment after a publisher change (the playlist puts EXT-X-DISCONTINUITY before it). */
  readonly discontinuity: boolean;
  /** Starts with a video key frame (or is audio-only): decodable without earlier segments. */
  readonly independent: boolean;
  /** Frames were dropped at its end because it reached maxSegmentBytes (follow mode only). */
  readonly truncated: boolean;
  readonly bytes: Buffer;
}

/** What is known of a segment when it opens (its first frame): what an owner announces to edges. */
export interface SegmentStart {
  readonly seq: number;
  readonly name: string;
  readonly startMs: number;
  readonly discontinuity: boolean;
  readonly independent: boolean;
}

/** Segment file names are `<prefix><seq>.ts`: the same on every node that uses the same prefix. */
export function segmentName(prefix: string, seq: number): string {
  return `${prefix}${seq}.ts`;
}
