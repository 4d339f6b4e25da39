import type { SegmentMark } from './segment-marker.ts';

/** Media kinds carry the FLV tag / RTMP message type numbers so no mapping is needed on the wire. */
export const MediaKind = { Audio: 8, Video: 9, Data: 18 } as const;
export type MediaKind = (typeof MediaKind)[keyof typeof MediaKind];

/**
 * One frame (or metadata) on the stream's output timeline. `payload` is the FLV tag body
 * (= RTMP message payload). `wire` memoizes the serialized bytes per output format
 * (indexed by OutputFormat.slot) so every viewer of a format shares one Buffer.
 */
export interface MediaMessage {
  readonly kind: MediaKind;
  readonly timestampMs: number;
  readonly payload: Buffer;
  readonly isKeyFrame: boolean;
  readonly isSequenceHeader: boolean;
  readonly wire: (Buffer | undefined)[];
  /** Bytes this message holds: the payload plus every serialized copy memoized in `wire`. */
  heldBytes: number;
  /** Set on the frame that starts an HLS segment (see SegmentMarker). */
  segment: SegmentMark | null;
}

export function createMediaMessage(
  kind: MediaKind,
  timestampMs: number,
  payload: Buffer,
  flags: { isKeyFrame: boolean; isSequenceHeader: boolean },
  segment: SegmentMark | null = null,
): MediaMessage {
  return {
    kind,
    timestampMs,
    payload,
    isKeyFrame: flags.isKeyFrame,
    isSequenceHeader: flags.isSequenceHeader,
    wire: [],
    heldBytes: payload.length,
    segment,
  };
}
