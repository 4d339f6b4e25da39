import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TsMuxer } from '../../../libs/mpegts/muxer.ts';
import type { HlsSegment } from '../../../libs/hls/segment.ts';
import { Segmenter, type SegmenterFrame } from '../../../libs/hls/segmenter.ts';
import { audio, audioHeader, video, videoHeader } from './frames.ts';

const MAX_SEGMENT_BYTES = 64 * 1024;
/** The largest frame below (8 KB of payload) muxes to well under this. */
const ONE_FRAME_BOUND = 12 * 1024;

/** A frame of a random kind: valid synthetic frames, headers, and bytes that are not FLV at all. */
const frameArb = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('key' as const), size: fc.integer({ min: 5, max: 8000 }) }),
  },
  {
    weight: 12,
    arbitrary: fc.record({ t: fc.constant('inter' as const), size: fc.integer({ min: 5, max: 8000 }) }),
  },
  {
    weight: 12,
    arbitrary: fc.record({ t: fc.constant('audio' as const), size: fc.integer({ min: 4, max: 600 }) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constantFrom('vhdr' as const, 'ahdr' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('junk' as const),
      kind: fc.constantFrom(8 as const, 9 as const, 18 as const),
      bytes: fc.uint8Array({ maxLength: 300 }),
      key: fc.boolean(),
      header: fc.boolean(),
    }),
  },
);

/** Steps mostly forward by a frame, sometimes backwards or far (timeline jumps). */
const stepArb = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 0, max: 60 }) },
  { weight: 1, arbitrary: fc.integer({ min: -20_000, max: 90_000 }) },
);

type FrameSpec = typeof frameArb extends fc.Arbitrary<infer T> ? T : never;

const streamArb = fc.array(fc.tuple(frameArb, stepArb, fc.boolean()), {
  minLength: 50,
  maxLength: 600,
  size: 'max',
});

function build(items: [FrameSpec, number, boolean][]): [SegmenterFrame, boolean][] {
  let ts = 1_000_000;
  return items.map(([f, step, mark]): [SegmenterFrame, boolean] => {
    ts = Math.max(0, ts + step);
    switch (f.t) {
      case 'key':
        return [video(ts, true, f.size), mark];
      case 'inter':
        return [video(ts, false, f.size), mark];
      case 'audio':
        return [audio(ts, f.size), mark];
      case 'vhdr':
        return [videoHeader(ts), false];
      case 'ahdr':
        return [audioHeader(ts), false];
      case 'junk':
        return [
          {
            kind: f.kind,
            timestampMs: ts,
            payload: Buffer.from(f.bytes),
            isKeyFrame: f.key,
            isSequenceHeader: f.header,
          },
          mark,
        ];
      default:
        throw new Error('unreachable');
    }
  });
}

function check(segments: HlsSegment[]): void {
  let lastSeq = -1;
  for (const s of segments) {
    assert.ok(s.seq > lastSeq, 'sequence numbers increase');
    lastSeq = s.seq;
    assert.ok(s.durationMs >= 0);
    assert.ok(s.bytes.length > 0 && s.bytes.length % 188 === 0);
    assert.equal(s.bytes[0], 0x47);
    assert.equal(((s.bytes[1]! & 0x1f) << 8) | s.bytes[2]!, 0, 'starts with PAT');
    assert.ok(s.bytes.length <= MAX_SEGMENT_BYTES + ONE_FRAME_BOUND, `${s.bytes.length} bytes`);
  }
}

for (const mode of ['lead', 'follow'] as const) {
  test(`segmenter (${mode}): any frames, junk and timeline jumps included: no throw, valid bounded segments`, () => {
    let made = 0;
    fc.assert(
      fc.property(streamArb, fc.boolean(), fc.boolean(), (items, headersFirst, discontinuityHalfway) => {
        const segments: HlsSegment[] = [];
        const seg = new Segmenter({
          mode,
          prefix: 'p-',
          targetMs: 2000,
          maxSegmentMs: 4000,
          maxSegmentBytes: MAX_SEGMENT_BYTES,
          muxer: new TsMuxer(),
          onSegment: (s) => segments.push(s),
        });
        // Usually the stream starts with its headers, as publishers do; not always.
        const frames = [
          ...(headersFirst
            ? ([
                [videoHeader(0), false],
                [audioHeader(0), false],
              ] as const)
            : []),
          ...build(items),
        ];
        let seq = 0;
        for (const [i, [f, mark]] of frames.entries()) {
          if (discontinuityHalfway && i === frames.length >> 1) seg.markDiscontinuity();
          // Follow mode: the owner's marks, now and then on any frame; some repeat a number.
          seg.push(f, mode === 'follow' && mark ? { seq: (seq += i % 7 === 0 ? 0 : 1) } : undefined);
        }
        seg.end();
        check(segments);
        made += segments.length;
      }),
      { numRuns: 100 },
    );
    // The property is not vacuous: the runs made segments to check.
    assert.ok(made > 100, `${made} segments in all`);
  });
}
