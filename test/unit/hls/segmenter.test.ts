import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsMuxer } from '../../../libs/mpegts/muxer.ts';
import type { HlsSegment, SegmentStart } from '../../../libs/hls/segment.ts';
import { Segmenter, type SegmenterFrame, type SegmenterOptions } from '../../../libs/hls/segmenter.ts';
import { makeStream, tsPackets, video } from './frames.ts';

const PAT = 0;
const PMT = 0x1000;

function lead(opts: Partial<SegmenterOptions> = {}) {
  const segments: HlsSegment[] = [];
  const opened: SegmentStart[] = [];
  const seg = new Segmenter({
    mode: 'lead',
    prefix: 'cam-7-',
    targetMs: 2000,
    maxSegmentMs: 6000,
    maxSegmentBytes: 8 * 1024 * 1024,
    muxer: new TsMuxer(),
    onOpen: (s) => opened.push(s),
    onSegment: (s) => segments.push(s),
    ...opts,
  });
  return { seg, segments, opened };
}

const summary = (segs: HlsSegment[]) =>
  segs.map((s) => ({ seq: s.seq, startMs: s.startMs, durationMs: s.durationMs, independent: s.independent }));

/** Every segment: PAT then PMT first, counters from 0 on every PID, +1 per payload packet. */
function assertSelfContained(s: HlsSegment): void {
  const packets = tsPackets(s.bytes);
  assert.equal(packets[0]!.pid, PAT, `${s.name} starts with PAT`);
  assert.equal(packets[1]!.pid, PMT, `${s.name} has PMT second`);
  const next = new Map<number, number>();
  for (const p of packets) {
    if (!p.hasPayload) continue;
    const want = next.get(p.pid) ?? 0;
    assert.equal(p.cc, want, `${s.name}: continuity counter on PID ${p.pid}`);
    next.set(p.pid, (want + 1) & 0x0f);
  }
}

test('lead: cuts at the first key frame once the target is reached; numbers from firstSeq; names', () => {
  const { seg, segments, opened } = lead({ firstSeq: 40 });
  // 25 fps, key frame every 25 frames (1 s), 9 s.
  for (const f of makeStream({ durationMs: 9000, gop: 25 })) seg.push(f);
  seg.end();
  assert.deepEqual(summary(segments), [
    { seq: 40, startMs: 0, durationMs: 2000, independent: true },
    { seq: 41, startMs: 2000, durationMs: 2000, independent: true },
    { seq: 42, startMs: 4000, durationMs: 2000, independent: true },
    { seq: 43, startMs: 6000, durationMs: 2000, independent: true },
    // At the end: last video frame 8960 + 40 ms (audio 8981 + 21 ms ends a little later).
    { seq: 44, startMs: 8000, durationMs: 1002, independent: true },
  ]);
  assert.deepEqual(
    segments.map((s) => s.name),
    ['cam-7-40.ts', 'cam-7-41.ts', 'cam-7-42.ts', 'cam-7-43.ts', 'cam-7-44.ts'],
  );
  assert.deepEqual(
    opened.map((o) => [o.seq, o.startMs]),
    segments.map((s) => [s.seq, s.startMs]),
  );
  for (const s of segments) assertSelfContained(s);
  assert.ok(segments.every((s) => !s.discontinuity && !s.truncated));
});

test('lead: a GOP longer than the target gives segments of whole GOPs', () => {
  const { seg, segments } = lead();
  // Key frame every 1.5 s: the first key frame at or after 2 s is at 3 s.
  for (const f of makeStream({ durationMs: 9100, gop: 75, fps: 50 })) seg.push(f);
  assert.deepEqual(
    summary(segments).map((s) => [s.startMs, s.durationMs]),
    [
      [0, 3000],
      [3000, 3000],
      [6000, 3000],
    ],
  );
  assert.equal(seg.openSeq, 3, 'the segment from 9 s is still open');
});

test('lead: a key frame a few ms early still cuts (ms timestamps of 30 fps)', () => {
  const { seg, segments } = lead();
  // 30 fps rounded to ms: frame 60 is at 2000, but a 29.97 source puts a key frame at 1998.
  for (const f of makeStream({ durationMs: 1990, fps: 30, gop: 60 })) seg.push(f);
  seg.push(video(1998, true));
  seg.push(video(2031, false));
  seg.push(video(3996, true));
  assert.deepEqual(
    segments.map((s) => [s.startMs, s.durationMs]),
    [
      [0, 1998],
      [1998, 1998],
    ],
  );
});

test('lead: no key frame by maxSegmentMs forces a cut at the next video frame; the segment is not independent', () => {
  const { seg, segments } = lead({ maxSegmentMs: 5000 });
  // Key frames at 0 and 12 s only.
  for (const f of makeStream({ durationMs: 15_000, gop: 300 })) seg.push(f);
  seg.end();
  assert.deepEqual(summary(segments), [
    { seq: 0, startMs: 0, durationMs: 5000, independent: true },
    { seq: 1, startMs: 5000, durationMs: 5000, independent: false },
    { seq: 2, startMs: 10_000, durationMs: 2000, independent: false },
    // Ends at the last audio frame (14 997 ms) plus the AAC frame step (21 ms).
    { seq: 3, startMs: 12_000, durationMs: 3018, independent: true },
  ]);
  assert.equal(seg.stats.forcedCuts, 2);
  // A forced segment starts with PAT/PMT and restarts its counters too.
  for (const s of segments) assertSelfContained(s);
});

test('lead: audio-only streams cut at an audio frame once the target is reached', () => {
  const { seg, segments } = lead();
  for (const f of makeStream({ durationMs: 7000, gop: 0 })) seg.push(f);
  seg.end();
  // AAC frames at round(i * 21.333); a cut at the first one at least 1990 ms (target minus
  // tolerance) after the segment's start: frame 94 (2005 ms), 188 (4011), 282 (6016); the last
  // frame is 328 (6997) + 21 ms.
  assert.deepEqual(
    segments.map((s) => [s.startMs, s.durationMs, s.independent]),
    [
      [0, 2005, true],
      [2005, 2006, true],
      [4011, 2005, true],
      [6016, 1002, true],
    ],
  );
  for (const s of segments) assertSelfContained(s);
});

test('lead: frames before the first key frame are dropped; audio waits for video', () => {
  const { seg, segments } = lead();
  const frames = makeStream({ durationMs: 4000, gop: 25, startMs: 10_000 });
  // Drop the key frame at 10 s: video starts mid-GOP.
  const midGop = frames.filter((f) => !(f.kind === 9 && f.timestampMs === 10_000 && !f.isSequenceHeader));
  for (const f of midGop) seg.push(f);
  seg.end();
  assert.equal(segments[0]!.startMs, 11_000);
  // 24 video frames (10 040..10 960) and 47 audio frames (10 000..10 981).
  assert.equal(seg.stats.framesDropped, 24 + 47);
});

test('lead: a publisher change cuts at the next key frame whatever the duration, and flags the segment', () => {
  const { seg, segments } = lead();
  for (const f of makeStream({ durationMs: 2500, gop: 25 })) seg.push(f);
  seg.markDiscontinuity();
  // The next publisher, 40 ms later on the continuing timeline, starts with a key frame.
  for (const f of makeStream({ durationMs: 4000, gop: 25, startMs: 2540 })) seg.push(f);
  seg.end();
  assert.deepEqual(
    segments.map((s) => [s.startMs, s.durationMs, s.discontinuity]),
    [
      [0, 2000, false],
      [2000, 540, false],
      [2540, 2000, true],
      // Last audio frame 2540 + 3989 ms, plus 21 ms.
      [4540, 2010, false],
    ],
  );
});

test('lead: the byte bound cuts before the frame that would cross it', () => {
  const { seg, segments } = lead({ maxSegmentBytes: 64 * 1024 });
  // 25 fps of 5000-byte frames: about 5.3 KB of TS each, 12 frames fit in 64 KiB.
  for (const f of makeStream({ durationMs: 4000, gop: 25, audio: false })) {
    seg.push(f.kind === 9 && !f.isSequenceHeader ? video(f.timestampMs, f.isKeyFrame, 5000) : f);
  }
  for (const s of segments) assert.ok(s.bytes.length <= 64 * 1024, `${s.name}: ${s.bytes.length} bytes`);
  assert.ok(segments.length >= 7, `${segments.length} segments`);
  assert.equal(segments[0]!.independent, true);
  assert.equal(segments[1]!.independent, false);
  for (const s of segments) assertSelfContained(s);
});

test('follow: cuts only where told, with the given numbers; frames before the first cut are dropped', () => {
  const segments: HlsSegment[] = [];
  const seg = new Segmenter({
    mode: 'follow',
    prefix: 'cam-7-',
    targetMs: 2000,
    maxSegmentMs: 6000,
    maxSegmentBytes: 8 * 1024 * 1024,
    muxer: new TsMuxer(),
    onSegment: (s) => segments.push(s),
  });
  // 19 at 6 s does not increase on 20: not a cut (counted), the frame stays in segment 20.
  const cuts = new Map([
    [1000, 17],
    [4000, 18],
    [5000, 20],
    [6000, 19],
  ]);
  for (const f of makeStream({ durationMs: 7000, gop: 25 })) {
    const seq = f.kind === 9 && f.isKeyFrame ? cuts.get(f.timestampMs) : undefined;
    seg.push(f, seq !== undefined ? { seq, ...(seq === 20 ? { discontinuity: true } : {}) } : undefined);
  }
  seg.end();
  assert.deepEqual(
    segments.map((s) => [s.seq, s.startMs, s.durationMs, s.discontinuity]),
    [
      [17, 1000, 3000, false],
      [18, 4000, 1000, false],
      [20, 5000, 2018, true],
    ],
  );
  assert.equal(seg.stats.cutsRejected, 1);
  // Before 1 s: 25 video and 47 audio frames (audio at 0..981 ms).
  assert.equal(seg.stats.framesDropped, 25 + 47);
  for (const s of segments) assertSelfContained(s);
  // After end() nothing is open: frames wait for the next cut again.
  seg.push(video(8000, true));
  seg.push(video(8040, false));
  assert.equal(seg.openSeq, null);
  seg.push(video(9000, true), { seq: 21 });
  assert.equal(seg.openSeq, 21);
  assert.equal(seg.stats.framesDropped, 25 + 47 + 2);
});

test('lead: a new publisher without video cuts at its first audio frame', () => {
  const { seg, segments } = lead();
  for (const f of makeStream({ durationMs: 3000, gop: 25 })) seg.push(f);
  seg.markDiscontinuity();
  for (const f of makeStream({ durationMs: 3000, gop: 0, startMs: 3040 })) seg.push(f);
  seg.end();
  assert.deepEqual(
    segments.map((s) => [s.startMs, s.discontinuity, s.independent]),
    [
      [0, false, true],
      [2000, false, true],
      [3040, true, true],
      // 3040 + round(94 x 21.333): the first audio frame at least 1990 ms later.
      [5045, false, true],
    ],
  );
});

test('lead: when video stops, audio keeps cutting after maxSegmentMs', () => {
  const { seg, segments } = lead({ maxSegmentMs: 4000 });
  const frames = makeStream({ durationMs: 14_000, gop: 25 });
  // Video ends at 3 s; audio goes on.
  for (const f of frames) if (!(f.kind === 9 && f.timestampMs >= 3000)) seg.push(f);
  seg.end();
  const starts = segments.map((s) => s.startMs);
  assert.equal(starts[0], 0);
  assert.equal(starts[1], 2000);
  // From 2 s the segment runs until audio finds video gone for maxSegmentMs (last video
  // 2960 + 4000: the first audio frame at or after 6960 is at 6976).
  assert.equal(starts[2], 6976);
  // Then audio cuts at the target; these segments are not independent (video is announced).
  assert.equal(segments.length, 6);
  for (const s of segments.slice(2, -1)) {
    assert.ok(s.durationMs >= 1990 && s.durationMs <= 2030, `${s.durationMs}`);
    assert.equal(s.independent, false);
  }
});

test('follow: segmenters that start at different points make byte-identical segments', () => {
  const frames = makeStream({ durationMs: 12_000, gop: 25 });
  const headers = frames.filter((f) => f.isSequenceHeader);
  // The owner leads; its cuts are announced as (timestamp of the key frame -> seq).
  const owner = lead({ firstSeq: 100 });
  const announced = new Map<number, number>();
  owner.seg = new Segmenter({
    mode: 'lead',
    prefix: 'cam-7-',
    firstSeq: 100,
    targetMs: 2000,
    maxSegmentMs: 6000,
    maxSegmentBytes: 8 * 1024 * 1024,
    muxer: new TsMuxer(),
    onOpen: (o) => announced.set(o.startMs, o.seq),
    onSegment: (s) => owner.segments.push(s),
  });
  for (const f of frames) owner.seg.push(f);

  const follower = (fromMs: number): HlsSegment[] => {
    const out: HlsSegment[] = [];
    const seg = new Segmenter({
      mode: 'follow',
      prefix: 'cam-7-',
      targetMs: 2000,
      maxSegmentMs: 6000,
      maxSegmentBytes: 8 * 1024 * 1024,
      muxer: new TsMuxer(),
      onSegment: (s) => out.push(s),
    });
    // A late joiner gets the stream's headers first (the hub keeps them), then frames from now on.
    const late: SegmenterFrame[] = fromMs > 0 ? headers : [];
    for (const f of [
      ...late,
      ...frames.filter((x) => fromMs === 0 || (!x.isSequenceHeader && x.timestampMs >= fromMs)),
    ]) {
      const seq = f.kind === 9 && f.isKeyFrame ? announced.get(f.timestampMs) : undefined;
      seg.push(f, seq !== undefined ? { seq } : undefined);
    }
    return out;
  };
  const byOwner = new Map(owner.segments.map((s) => [s.seq, s]));
  assert.equal(byOwner.size, 5);
  let compared = 0;
  for (const [from, complete] of [
    [0, 5],
    [1500, 4],
    [3300, 3],
    [7050, 1],
  ] as const) {
    const segs = follower(from);
    assert.equal(segs.length, complete, `from ${from}`);
    compared += segs.length;
    for (const s of segs) {
      const o = byOwner.get(s.seq)!;
      assert.ok(o, `from ${from}: seq ${s.seq}`);
      assert.equal(s.name, o.name);
      assert.equal(s.durationMs, o.durationMs);
      assert.ok(s.bytes.equals(o.bytes), `from ${from}: segment ${s.seq} differs`);
    }
  }
  assert.equal(compared, 13);
});

test('follow: identical bytes also when the audio track appeared after the first key frame', () => {
  // The owner saw video first and audio 500 ms later (its PMT changed once); a late joiner
  // learns both tracks at once. Segments both complete must still be identical.
  const all = makeStream({ durationMs: 8000, gop: 25 });
  const vHeader = all.find((f) => f.isSequenceHeader && f.kind === 9)!;
  const aHeader = { ...all.find((f) => f.isSequenceHeader && f.kind === 8)!, timestampMs: 500 };
  const media = all.filter((f) => !f.isSequenceHeader && !(f.kind === 8 && f.timestampMs < 500));
  const ownerFrames = [
    vHeader,
    ...media.filter((f) => f.timestampMs < 500),
    aHeader,
    ...media.filter((f) => f.timestampMs >= 500),
  ];
  const cuts = new Map([
    [0, 1],
    [2000, 2],
    [4000, 3],
    [6000, 4],
  ]);
  const run = (frames: SegmenterFrame[]): HlsSegment[] => {
    const out: HlsSegment[] = [];
    const seg = new Segmenter({
      mode: 'follow',
      prefix: 'k-',
      targetMs: 2000,
      maxSegmentMs: 6000,
      maxSegmentBytes: 8 * 1024 * 1024,
      muxer: new TsMuxer(),
      onSegment: (s) => out.push(s),
    });
    for (const f of frames) {
      const seq = f.kind === 9 && f.isKeyFrame ? cuts.get(f.timestampMs) : undefined;
      seg.push(f, seq !== undefined ? { seq } : undefined);
    }
    return out;
  };
  const owner = run(ownerFrames);
  const late = run([vHeader, aHeader, ...media.filter((f) => f.timestampMs >= 1500)]);
  assert.deepEqual(
    late.map((s) => s.seq),
    [2, 3],
  );
  for (const s of late)
    assert.ok(s.bytes.equals(owner.find((o) => o.seq === s.seq)!.bytes), `segment ${s.seq}`);
});

test('a timeline jump closes the open segment at its last frame; the next starts with a discontinuity', () => {
  const { seg, segments } = lead();
  for (const f of makeStream({ durationMs: 3000, gop: 25 })) seg.push(f);
  // 60 s later (a jump forward), then back to 10 s (a jump backward).
  for (const f of makeStream({ durationMs: 3000, gop: 25, startMs: 60_000 }).filter(
    (x) => !x.isSequenceHeader,
  )) {
    seg.push(f);
  }
  for (const f of makeStream({ durationMs: 3000, gop: 25, startMs: 10_000 }).filter(
    (x) => !x.isSequenceHeader,
  )) {
    seg.push(f);
  }
  seg.end();
  assert.deepEqual(
    segments.map((s) => [s.startMs, s.durationMs, s.discontinuity]),
    [
      [0, 2000, false],
      // Last audio frame 2987 (frame 140) + its 22 ms step: the jump is in no segment.
      [2000, 1009, false],
      [60_000, 2000, true],
      [62_000, 1009, false],
      [10_000, 2000, true],
      [12_000, 1009, false],
    ],
  );
  // Followers apply the same rule: given the owner's cuts they make the same segments.
  const announced = new Map(segments.map((s) => [s.startMs, s]));
  const followed: HlsSegment[] = [];
  const f = new Segmenter({
    mode: 'follow',
    prefix: 'cam-7-',
    targetMs: 2000,
    maxSegmentMs: 6000,
    maxSegmentBytes: 8 * 1024 * 1024,
    muxer: new TsMuxer(),
    onSegment: (s) => followed.push(s),
  });
  const all = [
    ...makeStream({ durationMs: 3000, gop: 25 }),
    ...makeStream({ durationMs: 3000, gop: 25, startMs: 60_000 }).filter((x) => !x.isSequenceHeader),
    ...makeStream({ durationMs: 3000, gop: 25, startMs: 10_000 }).filter((x) => !x.isSequenceHeader),
  ];
  for (const fr of all) {
    const a = fr.kind === 9 && fr.isKeyFrame ? announced.get(fr.timestampMs) : undefined;
    f.push(fr, a ? { seq: a.seq, discontinuity: a.discontinuity } : undefined);
  }
  f.end();
  assert.deepEqual(
    followed.map((s) => [s.seq, s.startMs, s.durationMs, s.discontinuity]),
    segments.map((s) => [s.seq, s.startMs, s.durationMs, s.discontinuity]),
  );
  for (const [i, s] of followed.entries()) assert.ok(s.bytes.equals(segments[i]!.bytes), `segment ${s.seq}`);
});

test('lead: tracks the muxer does not carry neither start nor cut segments', () => {
  // Sorenson H.263 video (legacy codec id 2, key frames flagged) beside AAC: cut like audio-only.
  const h263 = (ts: number, key: boolean): SegmenterFrame => ({
    kind: 9,
    timestampMs: ts,
    payload: Buffer.from([key ? 0x12 : 0x22, 1, 2, 3, 4, 5]),
    isKeyFrame: key,
    isSequenceHeader: false,
  });
  const h263Header: SegmenterFrame = { ...h263(0, true), isKeyFrame: false, isSequenceHeader: true };
  const { seg, segments } = lead();
  const audioOnly = makeStream({ durationMs: 5000, gop: 0 });
  const frames = [h263Header, ...audioOnly];
  for (let ts = 0; ts < 5000; ts += 40) frames.push(h263(ts, ts % 1000 === 0));
  frames.sort((a, b) => (a.isSequenceHeader ? -1 : b.isSequenceHeader ? 1 : a.timestampMs - b.timestampMs));
  for (const f of frames) seg.push(f);
  seg.end();
  assert.deepEqual(
    segments.map((s) => s.startMs),
    [0, 2005, 4011],
  );
  for (const s of segments) assertSelfContained(s);
  // Nothing carried at all (H.263 and MP3): no segment, and nothing thrown.
  const none = lead();
  for (let ts = 0; ts < 5000; ts += 40) {
    none.seg.push(h263(ts, ts % 1000 === 0));
    none.seg.push({
      kind: 8,
      timestampMs: ts,
      payload: Buffer.from([0x2f, 0xff, 0xfb]),
      isKeyFrame: false,
      isSequenceHeader: false,
    });
  }
  none.seg.end();
  assert.equal(none.segments.length, 0);
});

test('follow: a segment whose frames the muxer could not carry is not emitted', () => {
  const segments: HlsSegment[] = [];
  const seg = new Segmenter({
    mode: 'follow',
    prefix: 'x-',
    targetMs: 2000,
    maxSegmentMs: 6000,
    maxSegmentBytes: 1 << 20,
    muxer: new TsMuxer(),
    onSegment: (s) => segments.push(s),
  });
  // Video frames before any sequence header: the muxer has no configuration for them.
  seg.push(video(0, true), { seq: 1 });
  seg.push(video(40, false));
  seg.push(video(1000, true), { seq: 2 });
  assert.equal(segments.length, 0);
  assert.equal(seg.stats.emptySegments, 1);
});

test('lead: a discontinuity marked without new headers keeps the tracks (no new publisher after all)', () => {
  const { seg, segments } = lead();
  for (const f of makeStream({ durationMs: 2500, gop: 25 })) seg.push(f);
  seg.markDiscontinuity();
  // The same tracks go on, no headers: the next key frame (3020 ms) cuts, audio before it does not.
  for (const f of makeStream({ durationMs: 3000, gop: 25, startMs: 2540 }).filter(
    (x) => !x.isSequenceHeader,
  )) {
    seg.push(f.kind === 9 ? video(f.timestampMs, f.timestampMs === 3020, 600) : f);
  }
  seg.end();
  assert.deepEqual(
    segments.map((s) => [s.startMs, s.discontinuity, s.independent]),
    [
      [0, false, true],
      [2000, false, true],
      [3020, true, true],
    ],
  );
});
