import { interestingFor, readField, writeField } from '../engine/mutate.ts';
import type { Rng } from '../engine/rng.ts';
import type { Mutator } from '../engine/target.ts';

/** Where one chunk header starts in a captured chunk stream, and its shape. */
interface ChunkHeader {
  at: number;
  fmt: number;
  /** Basic header bytes (1-3). */
  basic: number;
}

const MESSAGE_HEADER = [11, 7, 3, 0];

/**
 * Finds the chunk headers of a (mostly) well-formed chunk stream by replaying the chunk
 * layer loosely: chunk size from Set Chunk Size messages, per-stream length and progress.
 * Stops at the first thing it cannot follow; never throws.
 */
export function findChunkHeaders(buf: Buffer, limit = 256): ChunkHeader[] {
  const out: ChunkHeader[] = [];
  const streams = new Map<number, { length: number; type: number; got: number; ext: boolean }>();
  let chunkSize = 128;
  let p = 0;
  while (p < buf.length && out.length < limit) {
    const b0 = buf[p]!;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    let basic = 1;
    if (csid === 0) {
      csid = 64 + (buf[p + 1] ?? 0);
      basic = 2;
    } else if (csid === 1) {
      csid = 64 + (buf[p + 1] ?? 0) + (buf[p + 2] ?? 0) * 256;
      basic = 3;
    }
    const h = p + basic;
    let s = streams.get(csid);
    if (!s) {
      if (fmt !== 0) break;
      s = { length: 0, type: 0, got: 0, ext: false };
      streams.set(csid, s);
    }
    if (fmt < 3) s.ext = readField(buf, h, 3) === 0xffffff;
    if (fmt < 2) {
      s.length = readField(buf, h + 3, 3);
      s.type = buf[h + 6] ?? 0;
    }
    out.push({ at: p, fmt, basic });
    const payloadAt = h + MESSAGE_HEADER[fmt]! + (s.ext ? 4 : 0);
    if (s.got >= s.length) s.got = 0;
    const n = Math.min(chunkSize, s.length - s.got);
    if (s.type === 1 && s.got === 0 && n >= 4 && payloadAt + 4 <= buf.length) {
      chunkSize = Math.max(1, buf.readUInt32BE(payloadAt) & 0x7fffffff);
    }
    s.got += n;
    p = payloadAt + n;
  }
  return out;
}

const TYPE_IDS = [1, 2, 3, 4, 5, 6, 8, 9, 15, 16, 17, 18, 19, 20, 22, 0, 7, 255];
const CHUNK_SIZES = [
  1, 2, 127, 128, 129, 4096, 65535, 65536, 65537, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000, 0,
];

/** A protocol control message (csid 2, fmt 0) with a 4-byte payload. */
function control(type: number, value: number): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0x02;
  writeField(b, 4, 3, 4);
  b[7] = type;
  writeField(b, 12, 4, value);
  return b;
}

/**
 * Structure-aware tweaks of an RTMP chunk stream: header fields of a real chunk (fmt, csid
 * form, message length, type id, extended timestamp, stream id) and control messages slipped
 * in between chunks (Set Chunk Size, Abort).
 */
export const rtmpChunkMutator: Mutator = (buf, rng) => {
  const headers = findChunkHeaders(buf);
  if (headers.length === 0) return buf;
  const h = rng.pick(headers);
  const field = h.at + h.basic;
  const b = Buffer.from(buf);
  switch (rng.below(9)) {
    case 0: // fmt
      b[h.at] = (b[h.at]! & 0x3f) | (rng.below(4) << 6);
      return b;
    case 1: // csid: the 2- and 3-byte forms, protocol control, or any
      b[h.at] = (b[h.at]! & 0xc0) | rng.pick([0, 1, 2, 3, 63, rng.below(64)]);
      return b;
    case 2: // message length
      if (h.fmt < 2) writeField(b, field + 3, 3, interestingFor(rng, 3, readField(b, field + 3, 3)));
      return b;
    case 3: // type id
      if (h.fmt < 2) b[field + 6] = rng.pick(TYPE_IDS);
      return b;
    case 4: // timestamp or delta: extended, or around it
      if (h.fmt < 3) writeField(b, field, 3, rng.pick([0xffffff, 0xfffffe, 0, rng.below(0x1000000)]));
      return b;
    case 5: // message stream id (little-endian)
      if (h.fmt === 0) writeField(b, field + 7, 4, interestingFor(rng, 4, 0), true);
      return b;
    case 6: // a Set Chunk Size before this chunk
      return insertAt(b, h.at, control(1, rng.pick(CHUNK_SIZES)));
    case 7: // an Abort of some chunk stream before this chunk
      return insertAt(b, h.at, control(2, rng.pick([3, 4, 5, 6, 2, 64, 65599, rng.below(70000)])));
    default: // repeat this chunk (a header again, with whatever follows it)
      return insertAt(b, h.at, b.subarray(h.at, Math.min(b.length, h.at + rng.range(1, 160))));
  }
};

function insertAt(b: Buffer, at: number, what: Buffer): Buffer {
  return Buffer.concat([b.subarray(0, at), what, b.subarray(at)]);
}

export type { Rng };
