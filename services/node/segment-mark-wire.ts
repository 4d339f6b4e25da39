import { decodeCommandPayload, encodeAmf0, type AmfValue } from '../../libs/amf/index.ts';
import type { SegmentMark } from '../../libs/stream/index.ts';

/** The AMF0 data message an origin sends to its relays just before a frame that starts a segment. */
export const SEGMENT_MARK_NAME = '@sluiceSegment';

/** Timeline ids are short tokens (an epoch, a base-36 time): anything else is not ours. */
const TIMELINE_RE = /^[0-9A-Za-z_-]{1,32}$/;

export function encodeSegmentMark(m: SegmentMark): Buffer {
  return encodeAmf0([
    SEGMENT_MARK_NAME,
    { seq: m.seq, timeline: m.timeline, ts: m.ts, disc: m.discontinuity, ind: m.independent },
  ]);
}

/**
 * The mark in a relayed data message, or null when the message is something else or malformed
 * (a mark that does not parse is ignored: the edge then simply does not cut there).
 */
export function decodeSegmentMark(typeId: number, payload: Buffer): SegmentMark | null {
  let values: AmfValue[];
  try {
    values = decodeCommandPayload(typeId, payload);
  } catch {
    return null;
  }
  if (values[0] !== SEGMENT_MARK_NAME) return null;
  const o = values[1];
  if (!o || typeof o !== 'object' || Array.isArray(o) || o instanceof Date) return null;
  const { seq, timeline, ts, disc, ind } = o as Record<string, AmfValue>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return null;
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0) return null;
  if (typeof timeline !== 'string' || !TIMELINE_RE.test(timeline)) return null;
  return { seq, timeline, ts, discontinuity: disc === true, independent: ind !== false };
}

/** A quick look at a data message's first bytes: AMF0 string marker, length, the mark's name. */
export function looksLikeSegmentMark(payload: Buffer): boolean {
  return (
    payload.length > 3 + SEGMENT_MARK_NAME.length &&
    payload[0] === 0x02 &&
    payload.readUInt16BE(1) === SEGMENT_MARK_NAME.length &&
    payload.toString('latin1', 3, 3 + SEGMENT_MARK_NAME.length) === SEGMENT_MARK_NAME
  );
}
