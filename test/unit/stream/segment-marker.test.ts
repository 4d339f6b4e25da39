import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../libs/log/logger.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import { MediaKind, SegmentMarker, StreamHub, type MediaMessage } from '../../../libs/stream/index.ts';

const V = MediaKind.Video;
const A = MediaKind.Audio;

test('segment marker: video cuts at the first key frame past the target, numbers count up', () => {
  const m = new SegmentMarker({ targetMs: 2000, maxMs: 6000 }, 'tl', 0);
  const cuts: [number, number][] = [];
  // Key frames every 1.5 s, frames every 500 ms; audio in between never cuts a video stream.
  for (let ts = 0; ts <= 9000; ts += 500) {
    const mk = m.mark(V, ts, ts % 1500 === 0, true);
    if (mk) cuts.push([mk.seq, ts]);
    assert.equal(m.mark(A, ts + 10, false, true), null);
  }
  assert.deepEqual(cuts, [
    [0, 0],
    [1, 3000],
    [2, 6000],
    [3, 9000],
  ]);
});

test('segment marker: a missing key frame forces a cut at the maximum, marked not independent', () => {
  const m = new SegmentMarker({ targetMs: 1000, maxMs: 3000 }, 'tl', 0);
  assert.equal(m.mark(V, 0, true, true)?.independent, true);
  let forced = null;
  for (let ts = 100; ts <= 3500 && !forced; ts += 100) forced = m.mark(V, ts, false, true);
  assert.deepEqual(forced && { seq: forced.seq, ts: forced.ts, independent: forced.independent }, {
    seq: 1,
    ts: 3000,
    independent: false,
  });
});

test('segment marker: audio-only streams cut at audio frames; video appearing later cuts at its first key frame', () => {
  const m = new SegmentMarker({ targetMs: 1000, maxMs: 3000 }, 'tl', 0);
  const seqs: number[] = [];
  for (let ts = 0; ts < 2100; ts += 23) {
    const mk = m.mark(A, ts, false, false);
    if (mk) seqs.push(mk.ts);
  }
  assert.deepEqual(seqs, [0, 1012, 2024]);
  assert.equal(m.mark(V, 2100, false, false), null, 'video waits for a key frame');
  const k = m.mark(V, 2200, true, true);
  assert.equal(k?.seq, 3, 'the first key frame starts a video segment whatever the duration');
});

test('segment marker: a new publisher continues the numbers with a discontinuity; a new owner timeline restarts them', () => {
  const m = new SegmentMarker({ targetMs: 1000, maxMs: 3000 }, 'a', 0);
  m.mark(V, 0, true, true);
  m.mark(V, 1000, true, true);
  m.publisherChanged();
  assert.equal(m.mark(V, 1100, false, true), null);
  const d = m.mark(V, 1200, true, true)!;
  assert.deepEqual([d.seq, d.timeline, d.discontinuity], [2, 'a', true]);
  assert.equal(m.mark(V, 2200, true, true)?.discontinuity, false);
  m.publisherChanged('b', 100);
  const n = m.mark(V, 5000, true, true)!;
  assert.deepEqual(
    [n.seq, n.timeline, n.discontinuity],
    [100, 'b', true],
    'a new owner: its own first number',
  );
  m.publisherChanged('c', 50);
  assert.equal(m.mark(V, 9000, true, true)?.seq, 101, 'numbers never go back, whatever an owner says');
});

test('stream: local publishers get marks from the policy; a relay publisher brings its own; headers never carry one', () => {
  const hub = new StreamHub(
    {
      gopCache: true,
      gopCacheMaxBytes: 1 << 20,
      waitPublisherMs: 1000,
      maxBufferedBytes: 1 << 20,
      stallTimeoutMs: 1000,
      writeCoalesceMs: 0,
      segmentTargetMs: 1000,
    },
    { log: silentLogger(), counters: new Counters() },
  );
  const seen: MediaMessage[] = [];
  hub.onStreamCreated = (st) => st.addTap({ onMessage: (msg) => seen.push(msg) });
  const s = hub.getOrCreate('live/m');
  const frame = (ts: number, key: boolean, hdr = false) => ({
    kind: V,
    timestampMs: ts,
    payload: Buffer.from('x'),
    isKeyFrame: key,
    isSequenceHeader: hdr,
  });
  const h = s.attachPublisher('p', { timeline: 'e7' })!;
  s.write(h, frame(0, false, true));
  s.write(h, frame(0, true));
  s.write(h, frame(500, false));
  s.write(h, frame(1000, true));
  const base = seen[1]!.segment!.seq;
  assert.deepEqual(
    seen.map((m) => m.segment && [m.segment.timeline, m.segment.seq - base]),
    [null, ['e7', 0], null, ['e7', 1]],
  );
  s.detachPublisher(h);
  assert.equal(hub.get('live/m'), undefined, 'idle stream forgotten');
  seen.length = 0;
  const s2 = hub.getOrCreate('live/m');
  const relayed = { seq: 41, timeline: 'e9', ts: 123_000, discontinuity: false, independent: true };
  const r = s2.attachPublisher('relay', { marksFromSource: true })!;
  s2.write(r, { ...frame(2000, true), segment: relayed });
  s2.write(r, frame(3500, true));
  assert.deepEqual(
    seen.map((m) => m.segment),
    [relayed, null],
    'the relay publisher marks, the local policy stays quiet',
  );
  hub.close();
});

test('segment marker: a publisher that leaves before its first cut keeps the discontinuity for the next', () => {
  const m = new SegmentMarker({ targetMs: 1000, maxMs: 3000 }, 'a', 0);
  m.mark(V, 0, true, true);
  m.publisherChanged(); // B: never cuts
  m.mark(V, 100, false, true);
  m.publisherChanged(); // C
  assert.equal(m.mark(V, 200, true, true)?.discontinuity, true);
});

test('segment marker: a clock jump back or forward starts over at the next key frame', () => {
  const m = new SegmentMarker({ targetMs: 2000, maxMs: 6000 }, 'a', 0);
  m.mark(V, 3_600_000, true, true);
  m.mark(V, 3_600_500, false, true);
  // The encoder restarts its clock at 0: without the reset nothing would cut for an hour.
  assert.equal(m.mark(V, 0, false, true), null, 'not on a P-frame');
  const back = m.mark(V, 500, true, true);
  assert.deepEqual(back && [back.seq, back.discontinuity, back.independent], [1, true, true]);
  // A 10 s gap: the next cut is the next key frame, not a forced cut on a P-frame.
  assert.equal(m.mark(V, 10_500, false, true), null);
  const fwd = m.mark(V, 11_000, true, true);
  assert.deepEqual(fwd && [fwd.seq, fwd.independent], [2, true]);
});
