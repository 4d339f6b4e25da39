import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsMuxer } from '../../../libs/mpegts/muxer.ts';
import { SegmentBuffer } from '../../../libs/hls/segment-buffer.ts';
import type { HlsSegment } from '../../../libs/hls/segment.ts';
import { Segmenter, type SegmentMuxer, type SegmenterFrame } from '../../../libs/hls/segmenter.ts';
import { makeStream, video } from './frames.ts';

test('SegmentBuffer: bytes survive growth; finish keeps the buffer up to a quarter unused, else copies', () => {
  const sb = new SegmentBuffer(16 * 1024);
  const parts: Buffer[] = [];
  for (let i = 0; i < 300; i++) {
    const n = 188 * (1 + (i % 7));
    const b = sb.alloc(n);
    b.fill(i & 0xff);
    parts.push(Buffer.alloc(n, i & 0xff));
  }
  const want = Buffer.concat(parts);
  assert.ok(sb.capacity >= want.length);
  const got = sb.finish();
  assert.ok(got.equals(want), 'every alloc kept its bytes across growth');
  assert.ok(got.buffer.byteLength <= got.length + (got.length >>> 2), 'at most a quarter unused');
  assert.equal(got.byteOffset, 0);

  // A small segment in a large first capacity: an exact copy, not the large buffer.
  const big = new SegmentBuffer(1024 * 1024);
  big.append(Buffer.from('abc'));
  const small = big.finish();
  assert.equal(small.toString(), 'abc');
  assert.equal(small.buffer.byteLength, 3);

  // Nearly full: handed over as it is.
  const near = new SegmentBuffer(20_000);
  near.alloc(18_000).fill(1);
  const kept = near.finish();
  assert.equal(kept.length, 18_000);
  assert.equal(kept.buffer.byteLength, 20_000);
});

test('SegmentBuffer.capacityAfter: the last size and an eighth; 64 KiB before any', () => {
  assert.equal(SegmentBuffer.capacityAfter(0), 64 * 1024);
  assert.equal(SegmentBuffer.capacityAfter(800_000), 900_000);
});

/** A TsMuxer seen without its `output` hook: the segmenter copies what mux() returns. */
function copyingMuxer(): SegmentMuxer {
  const m = new TsMuxer();
  return { mux: (f) => m.mux(f), resetContinuity: () => m.resetContinuity(), stats: m.stats };
}

function segmentsOf(frames: SegmenterFrame[], muxer: SegmentMuxer, maxSegmentBytes = 8 << 20): HlsSegment[] {
  const out: HlsSegment[] = [];
  const seg = new Segmenter({
    mode: 'lead',
    prefix: 's-',
    targetMs: 2000,
    maxSegmentMs: 6000,
    maxSegmentBytes,
    muxer,
    onSegment: (s) => out.push(s),
  });
  for (const f of frames) seg.push(f);
  seg.end();
  return out;
}

test('segments written in place equal segments from copied muxer output, byte for byte', () => {
  // Frames of varying size, so segments differ and some outgrow the estimate from the last one.
  const frames = makeStream({ durationMs: 20_000, gop: 50 }).map((f, i) =>
    f.kind === 9 && !f.isSequenceHeader ? video(f.timestampMs, f.isKeyFrame, 200 + ((i * 7919) % 9000)) : f,
  );
  const inPlace = segmentsOf(frames, new TsMuxer());
  const copied = segmentsOf(frames, copyingMuxer());
  assert.ok(inPlace.length >= 9, `${inPlace.length} segments`);
  assert.deepEqual(
    inPlace.map((s) => s.bytes.length),
    copied.map((s) => s.bytes.length),
  );
  for (let i = 0; i < inPlace.length; i++)
    assert.ok(inPlace[i]!.bytes.equals(copied[i]!.bytes), `segment ${i}`);
  for (const s of inPlace) {
    assert.ok(
      s.bytes.buffer.byteLength <= s.bytes.length + (s.bytes.length >>> 2),
      `${s.name} reserves <= 5/4`,
    );
  }
  // Segments do not share memory: a later one never overwrites an earlier one.
  const stores = new Set(inPlace.map((s) => s.bytes.buffer));
  assert.equal(stores.size, inPlace.length);
});

test('in place: the byte bound still cuts, and frames muxed with no segment open are not kept', () => {
  const frames = makeStream({ durationMs: 8000, gop: 25 }).map((f) =>
    f.kind === 9 && !f.isSequenceHeader ? video(f.timestampMs, f.isKeyFrame, 4000) : f,
  );
  const inPlace = segmentsOf(frames, new TsMuxer(), 60_000);
  const copied = segmentsOf(frames, copyingMuxer(), 60_000);
  assert.ok(inPlace.length > 4);
  for (const s of inPlace) assert.ok(s.bytes.length <= 60_000, `${s.name}: ${s.bytes.length}`);
  assert.deepEqual(
    inPlace.map((s) => s.bytes.toString('hex')),
    copied.map((s) => s.bytes.toString('hex')),
  );
});
