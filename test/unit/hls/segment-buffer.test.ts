import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsMuxer } from '../../../libs/mpegts/muxer.ts';
import { SegmentBuffer } from '../../../libs/hls/segment-buffer.ts';
import type { HlsSegment } from '../../../libs/hls/segment.ts';
import {
  Segmenter,
  type CutMark,
  type SegmentMuxer,
  type SegmenterFrame,
} from '../../../libs/hls/segmenter.ts';
import type { PacketSink } from '../../../libs/mpegts/muxer.ts';
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

test('in place: the byte bound still cuts (lead mode)', () => {
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

test('in place, follow mode: a segment truncated at the byte bound equals the copied one', () => {
  const frames = makeStream({ durationMs: 12_000, gop: 50 }).map((f) =>
    f.kind === 9 && !f.isSequenceHeader ? video(f.timestampMs, f.isKeyFrame, 3000) : f,
  );
  const run = (muxer: SegmentMuxer): HlsSegment[] => {
    const out: HlsSegment[] = [];
    const seg = new Segmenter({
      mode: 'follow',
      prefix: 'f-',
      targetMs: 2000,
      maxSegmentMs: 6000,
      maxSegmentBytes: 70_000,
      muxer,
      onSegment: (s) => out.push(s),
    });
    let seq = 0;
    for (const f of frames) {
      const cut: CutMark | undefined = f.kind === 9 && f.isKeyFrame ? { seq: seq++ } : undefined;
      seg.push(f, cut);
    }
    seg.end();
    return out;
  };
  const inPlace = run(new TsMuxer());
  const copied = run(copyingMuxer());
  assert.ok(
    inPlace.some((s) => s.truncated),
    'some segments reached the bound',
  );
  assert.deepEqual(
    inPlace.map((s) => [s.truncated, s.bytes.toString('hex')]),
    copied.map((s) => [s.truncated, s.bytes.toString('hex')]),
  );
});

/** A TsMuxer that, on its `throwAt`-th call, takes room in the segment, scribbles in it and throws. */
class ThrowingMuxer implements SegmentMuxer {
  readonly inner = new TsMuxer();
  output: PacketSink | null = null;
  private calls = 0;
  private readonly throwAt: number;
  constructor(throwAt: number) {
    this.throwAt = throwAt;
  }
  mux(f: SegmenterFrame): Buffer {
    if (this.calls++ === this.throwAt) {
      this.output?.alloc(376).fill(0xee);
      throw new Error('muxer bug');
    }
    this.inner.output = this.output;
    try {
      return this.inner.mux(f);
    } finally {
      this.inner.output = null;
    }
  }
  resetContinuity(): void {
    this.inner.resetContinuity();
  }
  get stats() {
    return this.inner.stats;
  }
}

test('a mux call that throws leaves nothing of its frame in the segment', () => {
  const frames = makeStream({ durationMs: 6000, gop: 25 });
  const bad = 40; // a frame inside the first segment
  const out: HlsSegment[] = [];
  const seg = new Segmenter({
    mode: 'lead',
    prefix: 't-',
    targetMs: 2000,
    maxSegmentMs: 6000,
    maxSegmentBytes: 8 << 20,
    muxer: new ThrowingMuxer(bad),
    onSegment: (s) => out.push(s),
  });
  let threw = 0;
  for (const f of frames) {
    try {
      seg.push(f);
    } catch {
      threw++;
    }
  }
  seg.end();
  assert.equal(threw, 1);
  const without = segmentsOf(
    frames.filter((_, i) => i !== bad),
    copyingMuxer(),
  );
  assert.deepEqual(
    out.map((s) => s.bytes.toString('hex')),
    without.map((s) => s.bytes.toString('hex')),
  );
});
