// Hand-built RTMP chunks for tests (RTMP spec §5.3.1), written independently of the chunk writer
// so reader tests do not depend on it.
import type { RtmpMessage } from '../../../libs/rtmp/message-types.ts';

export interface ChunkHeader {
  fmt: 0 | 1 | 2 | 3;
  csid: number;
  /** fmt 0: absolute timestamp, fmt 1/2: delta. >= 0xFFFFFF is written as an extended timestamp. */
  ts?: number;
  length?: number;
  typeId?: number;
  streamId?: number;
  /** fmt 3 only: append these 4 extended-timestamp bytes. */
  ext?: number;
  /** Force the 3-byte basic header form for csid 64..319. */
  long?: boolean;
}

export function basicHeader(fmt: number, csid: number, long = false): Buffer {
  if (csid < 64) return Buffer.from([(fmt << 6) | csid]);
  if (csid < 320 && !long) return Buffer.from([fmt << 6, csid - 64]);
  return Buffer.from([(fmt << 6) | 1, (csid - 64) & 0xff, (csid - 64) >> 8]);
}

const u24 = (v: number): Buffer => Buffer.from([(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
const u32be = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};

/** One chunk: basic header, message header for `fmt`, optional extended timestamp, data. */
export function chunk(h: ChunkHeader, data: Buffer = Buffer.alloc(0)): Buffer {
  const parts = [basicHeader(h.fmt, h.csid, h.long)];
  if (h.fmt < 3) {
    const ts = h.ts ?? 0;
    const extended = ts >= 0xffffff;
    parts.push(u24(extended ? 0xffffff : ts));
    if (h.fmt < 2) parts.push(u24(h.length ?? data.length), Buffer.from([h.typeId ?? 0]));
    if (h.fmt === 0) {
      const sid = Buffer.alloc(4);
      sid.writeUInt32LE(h.streamId ?? 0);
      parts.push(sid);
    }
    if (extended) parts.push(u32be(ts));
  } else if (h.ext !== undefined) {
    parts.push(u32be(h.ext));
  }
  parts.push(data);
  return Buffer.concat(parts);
}

/**
 * A whole message as separate chunks: `first` header, then fmt 3 continuations (carrying `ext`
 * when given), so callers can interleave chunks of several messages.
 */
export function chunks(first: ChunkHeader, payload: Buffer, chunkSize: number, ext?: number): Buffer[] {
  const out = [chunk({ ...first, length: first.length ?? payload.length }, payload.subarray(0, chunkSize))];
  for (let at = chunkSize; at < payload.length; at += chunkSize) {
    const cont: ChunkHeader = { fmt: 3, csid: first.csid };
    if (ext !== undefined) cont.ext = ext;
    if (first.long !== undefined) cont.long = first.long;
    out.push(chunk(cont, payload.subarray(at, at + chunkSize)));
  }
  return out;
}

/** Deterministic non-constant payload bytes. */
export function pattern(length: number, seed = 1): Buffer {
  const b = Buffer.alloc(length);
  let x = Math.imul(seed, 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export const u32Payload = u32be;

export function msg(
  csid: number,
  typeId: number,
  streamId: number,
  timestamp: number,
  payload: Buffer,
): RtmpMessage {
  return { csid, typeId, streamId, timestamp, payload };
}
