import { readFileSync } from 'node:fs';
import type { SegmenterFrame } from '../../../libs/hls/segmenter.ts';

/**
 * Synthetic FLV frames for segmenter tests: real AVC and AAC configuration records (the codec
 * fixtures, made by ffmpeg), frames with small NAL units / AAC payloads whose bytes encode their
 * timestamp (so two segments with different frames never look alike).
 */
const FIXTURES = new URL('../../fixtures/codec/', import.meta.url);
const AVCC = readFileSync(new URL('h264-baseline-320x240.avcc', FIXTURES));
const ASC = readFileSync(new URL('aac-stereo-48000.asc', FIXTURES));

const frame = (
  kind: 8 | 9,
  timestampMs: number,
  payload: Buffer,
  isKeyFrame = false,
  isSequenceHeader = false,
) => ({
  kind,
  timestampMs,
  payload,
  isKeyFrame,
  isSequenceHeader,
});

export const videoHeader = (ts = 0): SegmenterFrame =>
  frame(9, ts, Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), AVCC]), false, true);

export const audioHeader = (ts = 0): SegmenterFrame =>
  frame(8, ts, Buffer.concat([Buffer.from([0xaf, 0]), ASC]), false, true);

/** One length-prefixed NAL unit of `size` bytes: IDR slice (5) or non-IDR slice (1). */
function avcFrame(key: boolean, ts: number, size: number): Buffer {
  const nal = Buffer.alloc(size, ts & 0xff);
  nal[0] = key ? 0x65 : 0x41;
  nal.writeUInt32BE(ts >>> 0, 1);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(size);
  return Buffer.concat([Buffer.from([key ? 0x17 : 0x27, 1, 0, 0, 0]), len, nal]);
}

export const video = (ts: number, key: boolean, size = 600): SegmenterFrame =>
  frame(9, ts, avcFrame(key, ts, size), key);

export const audio = (ts: number, size = 120): SegmenterFrame => {
  const raw = Buffer.alloc(size, (ts * 7) & 0xff);
  raw.writeUInt32BE(ts >>> 0, 0);
  return frame(8, ts, Buffer.concat([Buffer.from([0xaf, 1]), raw]));
};

export interface StreamShape {
  durationMs: number;
  fps?: number;
  /** Frames per GOP (key frame every gop frames); 0 = no video. */
  gop?: number;
  /** AAC frames at 48 kHz (1024 samples), timestamps rounded to ms; false = no audio. */
  audio?: boolean;
  startMs?: number;
}

/** Headers, then video and audio frames interleaved in timestamp order. */
export function makeStream(s: StreamShape): SegmenterFrame[] {
  const start = s.startMs ?? 0;
  const fps = s.fps ?? 25;
  const gop = s.gop ?? 25;
  const out: { f: SegmenterFrame; order: number }[] = [];
  let order = 0;
  if (gop > 0) {
    for (let i = 0; (i * 1000) / fps < s.durationMs; i++) {
      out.push({ f: video(start + Math.round((i * 1000) / fps), i % gop === 0), order: order++ });
    }
  }
  if (s.audio ?? true) {
    for (let i = 0; (i * 1024 * 1000) / 48000 < s.durationMs; i++) {
      out.push({ f: audio(start + Math.round((i * 1024 * 1000) / 48000)), order: order++ });
    }
  }
  // Stable: at equal timestamps video first (as an FLV muxer interleaves them).
  out.sort((a, b) => a.f.timestampMs - b.f.timestampMs || a.order - b.order);
  const headers = [
    ...(gop > 0 ? [videoHeader(start)] : []),
    ...((s.audio ?? true) ? [audioHeader(start)] : []),
  ];
  return [...headers, ...out.map((x) => x.f)];
}

/** TS packet headers of a segment (asserting the 188-byte framing and sync bytes). */
export function tsPackets(buf: Buffer): { pid: number; cc: number; hasPayload: boolean; start: boolean }[] {
  if (buf.length % 188 !== 0) throw new Error(`${buf.length} bytes is not a whole number of TS packets`);
  const out = [];
  for (let at = 0; at < buf.length; at += 188) {
    if (buf[at] !== 0x47) throw new Error(`no sync byte at ${at}`);
    const pid = ((buf[at + 1]! & 0x1f) << 8) | buf[at + 2]!;
    out.push({
      pid,
      start: (buf[at + 1]! & 0x40) !== 0,
      hasPayload: (buf[at + 3]! & 0x10) !== 0,
      cc: buf[at + 3]! & 0x0f,
    });
  }
  return out;
}
