import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { isProtocolError } from '../../../../libs/errors/protocol-error.ts';
import { writeRtpHeader } from '../../../../libs/rtp/index.ts';
import type { TrackCodec } from '../../../../libs/rtsp/index.ts';
import { MediaKind, type IncomingFrame } from '../../../../libs/stream/index.ts';
import { RtspRecorder, START_LEAD_MS } from '../../../../services/node/rtsp/recorder.ts';
import { announcedTracks, buildStream, H264_AAC, serializeAll, type Sent } from './media.ts';

function fakeClock(t: TestContext): { now: number } {
  const clock = { now: 5_000 };
  t.mock.method(performance, 'now', () => clock.now);
  return clock;
}

/** The H.264 + AAC stream's records, with the coded video frame each video record belongs to. */
function stream() {
  const b = buildStream(H264_AAC);
  const sent = serializeAll(b.messages);
  const { codecs, ids } = announcedTracks(b.messages);
  const frameOf = new Map<number, number>();
  let f = -1;
  b.messages.forEach((m, i) => {
    if (m.kind === MediaKind.Video && !m.isSequenceHeader) frameOf.set(i, ++f);
  });
  const video = sent.filter((s) => s.channel === 0).map((s) => ({ ...s, frame: frameOf.get(s.msgIndex)! }));
  const keyFrames = b.messages
    .filter((m) => m.kind === MediaKind.Video && !m.isSequenceHeader)
    .map((m) => m.isKeyFrame);
  return { b, sent, codecs, ids, video, keyFrames };
}

const codedVideo = (frames: readonly IncomingFrame[]): IncomingFrame[] =>
  frames.filter((f) => f.kind === MediaKind.Video && !f.isSequenceHeader);

test('UDP: a gap is given up on 100 ms after packets started waiting behind it (flushStale or the next packet)', (t) => {
  for (const via of ['flushStale', 'next packet'] as const) {
    const clock = fakeClock(t);
    const { codecs, video, keyFrames } = stream();
    const frames: IncomingFrame[] = [];
    const rec = new RtspRecorder(codecs, true, (f) => frames.push(f));
    const secondKey = keyFrames.indexOf(true, 1);
    // Lose the first packet of frame 2, then everything up to the end of the second key frame.
    const lostAt = video.findIndex((s) => s.frame === 2);
    const upTo = video.findLastIndex((s) => s.frame === secondKey);
    for (let i = 0; i <= upTo; i++) if (i !== lostAt) rec.rtp(0, video[i]!.packet);
    assert.equal(rec.stats.lost, 0, 'the rest waits behind the gap');
    clock.now += 100;
    rec.flushStale();
    assert.equal(rec.stats.lost, 0, 'not yet');
    clock.now += 1;
    if (via === 'flushStale') rec.flushStale();
    else rec.rtp(0, video[upTo + 1]!.packet);
    assert.equal(rec.stats.lost, 1, `${via}: given up`);
    rec.flush();
    const after = codedVideo(frames);
    // The packet that triggers the give-up is the next frame's only one: it follows the key frame.
    assert.equal(
      after.length,
      via === 'flushStale' ? 3 : 4,
      `${via}: the key frame after the gap, nothing between`,
    );
    assert.equal(after[2]!.isKeyFrame, true);
    assert.equal(after[2]!.timestampMs - after[0]!.timestampMs, secondKey * H264_AAC.frameMs);
    assert.equal(rec.stats.droppedUnits, secondKey - 2);
    t.mock.restoreAll();
  }
});

test('tracks are lined up by the arrival of their first unit', (t) => {
  const clock = fakeClock(t);
  const { codecs, ids, sent } = stream();
  const frames: IncomingFrame[] = [];
  const rec = new RtspRecorder(codecs, false, (f) => frames.push(f));
  const feed = (s: Sent): void =>
    s.channel % 2 === 0 ? rec.rtp(ids.indexOf(s.channel >> 1), s.packet) : rec.rtcp(s.packet);
  // All video first; audio's first packet arrives 250 ms later.
  for (const s of sent.filter((x) => x.channel < 2)) feed(s);
  clock.now += 250;
  for (const s of sent.filter((x) => x.channel >= 2)) feed(s);
  rec.flush();
  const audio = frames.filter((f) => f.kind === MediaKind.Audio && !f.isSequenceHeader);
  assert.equal(audio[0]!.timestampMs, START_LEAD_MS + 250);
  assert.equal(codedVideo(frames)[0]!.timestampMs, START_LEAD_MS);
});

/** An RTP packet with a bare header and `payload`. */
function rtp(seq: number, ts: number, payloadType: number, payload: Buffer, marker = true): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  writeRtpHeader(b, 0, { marker, payloadType, sequenceNumber: seq, timestamp: ts, ssrc: 0xabc });
  payload.copy(b, 12);
  return b;
}

const H264_ONLY: TrackCodec = { codec: 'h264', payloadType: 96, clockRate: 90_000, packetizationMode: 1 };

test('B-frames in decode order: decode times increase, composition times carry the presentation times', (t) => {
  fakeClock(t);
  const frames: IncomingFrame[] = [];
  const rec = new RtspRecorder([H264_ONLY], false, (f) => frames.push(f));
  const sps = Buffer.from('6764000aacb403c0100000030010000003032f0800c5600', 'hex');
  const pps = Buffer.from([0x68, 0xee, 0x3c, 0x80]);
  // STAP-A with SPS, PPS, IDR at 0; then P at 120 ms, B at 40 ms, B at 80 ms (90 kHz).
  const stap = Buffer.concat([
    Buffer.from([24]),
    ...[sps, pps, Buffer.from([0x65, 0x88])].flatMap((n) => [Buffer.from([0, n.length]), n]),
  ]);
  rec.rtp(0, rtp(1, 0, 96, stap));
  rec.rtp(0, rtp(2, 120 * 90, 96, Buffer.from([0x41, 1])));
  rec.rtp(0, rtp(3, 40 * 90, 96, Buffer.from([0x01, 2])));
  rec.rtp(0, rtp(4, 80 * 90, 96, Buffer.from([0x01, 3])));
  rec.flush();
  const coded = codedVideo(frames);
  const dts = coded.map((f) => f.timestampMs - START_LEAD_MS);
  const pts = coded.map((f, i) => dts[i]! + f.payload.readIntBE(2, 3));
  // One frame of reordering: decode times a frame (40 ms) apart, each at most its presentation time.
  assert.deepEqual(dts, [-40, 0, 40, 80]);
  assert.deepEqual(pts, [0, 120, 40, 80]);
  assert.equal(frames[0]!.isSequenceHeader, true);
});

test('packets of tracks not carried, or with another payload type, are counted as ignored', (t) => {
  fakeClock(t);
  const tracks: (TrackCodec | null)[] = [
    null,
    { codec: 'unsupported', payloadType: 0, encoding: 'PCMU' },
    H264_ONLY,
  ];
  const frames: IncomingFrame[] = [];
  const rec = new RtspRecorder(tracks, false, (f) => frames.push(f));
  assert.deepEqual(rec.carried, [2]);
  rec.rtp(0, rtp(1, 0, 0, Buffer.from([1])));
  rec.rtp(1, rtp(1, 0, 0, Buffer.from([1])));
  rec.rtp(5, rtp(1, 0, 0, Buffer.from([1])));
  rec.rtp(2, rtp(1, 0, 97, Buffer.from([0x65, 1])));
  assert.equal(rec.stats.ignored, 4);
  assert.equal(frames.length, 0);
});

test('trackState: receiver report fields once a packet came', (t) => {
  fakeClock(t);
  const rec = new RtspRecorder([H264_ONLY], true, () => {});
  assert.equal(rec.trackState(0), null);
  assert.equal(rec.trackState(3), null);
  rec.rtp(0, rtp(700, 0, 96, Buffer.from([0x65, 1])));
  rec.rtp(0, rtp(701, 3000, 96, Buffer.from([0x41, 1])));
  assert.deepEqual(rec.trackState(0), { ssrc: 0xabc, highestSeq: 701, received: 2 });
});

const MALFORMED: [string, (r: RtspRecorder) => void][] = [
  ['an RTP packet shorter than its header', (r) => r.rtp(0, Buffer.from([0x80, 96, 0, 1]))],
  ['an RTP packet of version 1', (r) => r.rtp(0, rtp(1, 0, 96, Buffer.from([0x65])).fill(0x40, 0, 1))],
  ['an FU-B (interleaved mode only)', (r) => r.rtp(0, rtp(1, 0, 96, Buffer.from([29, 0x85, 1])))],
  ['an empty RTCP packet', (r) => r.rtcp(Buffer.alloc(0))],
  ['RTCP of version 0', (r) => r.rtcp(Buffer.from([0x00, 200, 0, 1, 0, 0, 0, 0]))],
];

for (const [name, feed] of MALFORMED) {
  test(`${name} raises a ProtocolError`, (t) => {
    fakeClock(t);
    const rec = new RtspRecorder([H264_ONLY], false, () => {});
    assert.throws(
      () => feed(rec),
      (e) => isProtocolError(e),
    );
  });
}

test('audio before the first video frame is held, then what is older than the picture dropped', (t) => {
  const clock = fakeClock(t);
  const AAC: TrackCodec = {
    codec: 'aac',
    payloadType: 97,
    clockRate: 48_000,
    channels: 2,
    config: Buffer.from([0x11, 0x90]),
    sizeLength: 13,
    indexLength: 3,
    indexDeltaLength: 3,
  };
  const frames: IncomingFrame[] = [];
  const rec = new RtspRecorder([H264_ONLY, AAC], false, (f) => frames.push(f));
  /** One 4-byte AAC frame in an RFC 3640 packet. */
  const aac = (seq: number, ms: number): Buffer =>
    rtp(seq, ms * 48, 97, Buffer.from([0, 16, 0, 4 << 3, 1, 2, 3, 4]));
  // Audio for 0..200 ms arrives first (the video track's first frame comes 100 ms after it).
  for (let i = 0; i < 10; i++) rec.rtp(1, aac(i, i * 20));
  assert.equal(frames.length, 0, 'held while video is expected');
  clock.now += 100;
  const sps = Buffer.from('6764000aacb403c0100000030010000003032f0800c5600', 'hex');
  const pps = Buffer.from([0x68, 0xee, 0x3c, 0x80]);
  const stap = Buffer.concat([
    Buffer.from([24]),
    ...[sps, pps, Buffer.from([0x65, 0x88])].flatMap((n) => [Buffer.from([0, n.length]), n]),
  ]);
  rec.rtp(0, rtp(1, 0, 96, stap));
  for (let i = 1; i < 8; i++) rec.rtp(0, rtp(1 + i, i * 40 * 90, 96, Buffer.from([0x41, i])));
  const firstCoded = frames.findIndex((f) => !f.isSequenceHeader);
  assert.equal(frames[firstCoded]!.kind, MediaKind.Video, 'the picture starts the stream');
  const audio = frames.filter((f) => f.kind === MediaKind.Audio);
  assert.ok(audio[0]!.isSequenceHeader, 'the audio configuration is kept');
  const videoStart = frames[firstCoded]!.timestampMs;
  assert.ok(
    audio.slice(1).every((f) => f.timestampMs >= videoStart),
    'no sound from before the picture',
  );
  assert.equal(rec.stats.audioBeforeVideo + audio.length - 1, 10);
  assert.ok(rec.stats.audioBeforeVideo > 0);
  // From then on audio goes straight through.
  const n = frames.length;
  rec.rtp(1, aac(10, 200));
  assert.equal(frames.length, n + 1);
});
