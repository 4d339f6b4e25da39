// The bench's RTSP interleaved scanner. Run: node --import tsx --test test/bench/rtsp-scanner.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import { interleavedHeader } from '../../libs/rtp/interleaved.ts';
import { writeRtpHeader } from '../../libs/rtp/packet.ts';
import { sdpTracks } from './rtsp-player.ts';
import { h264Key, h265Key, RtspInterleavedScanner, type RtspBenchResponse } from './rtsp-scanner.ts';

const b = (...x: number[]): Buffer => Buffer.from(x);

test('h264Key / h265Key: single NAL, aggregation and fragmentation units', () => {
  const cases: [string, 'h264' | 'h265', Buffer, boolean][] = [
    ['IDR', 'h264', b(0x65, 0x88), true],
    ['non-IDR slice', 'h264', b(0x41, 0x9a), false],
    ['SPS alone', 'h264', b(0x67, 0x42), false],
    ['STAP-A SPS+PPS', 'h264', b(0x78, 0, 2, 0x67, 0x42, 0, 1, 0x68), false],
    ['STAP-A SPS+PPS+IDR', 'h264', b(0x78, 0, 2, 0x67, 0x42, 0, 1, 0x68, 0, 2, 0x65, 0x88), true],
    ['STAP-A truncated size', 'h264', b(0x78, 0, 9), false],
    ['FU-A start of IDR', 'h264', b(0x7c, 0x85, 0x88), true],
    ['FU-A middle of IDR', 'h264', b(0x7c, 0x05, 0), false],
    ['FU-A end of IDR', 'h264', b(0x7c, 0x45, 0), false],
    ['FU-A start of non-IDR', 'h264', b(0x5c, 0x81, 0), false],
    ['FU-A without its header', 'h264', b(0x7c), false],
    ['empty', 'h264', b(), false],
    ['IDR_W_RADL', 'h265', b(19 << 1, 1), true],
    ['CRA', 'h265', b(21 << 1, 1), true],
    ['TRAIL_R', 'h265', b(1 << 1, 1), false],
    ['AP VPS+IDR', 'h265', b(48 << 1, 1, 0, 2, 32 << 1, 1, 0, 2, 19 << 1, 1), true],
    ['AP VPS+SPS', 'h265', b(48 << 1, 1, 0, 2, 32 << 1, 1, 0, 2, 33 << 1, 1), false],
    ['FU start of IDR', 'h265', b(49 << 1, 1, 0x80 | 19, 0), true],
    ['FU middle of IDR', 'h265', b(49 << 1, 1, 19, 0), false],
  ];
  for (const [name, codec, payload, want] of cases) {
    const f = codec === 'h264' ? h264Key : h265Key;
    assert.equal(f(payload, 0, payload.length), want, name);
    // Same answer when the payload sits inside a bigger buffer.
    const wrapped = Buffer.concat([b(9, 9, 9), payload, b(0x65, 0x65)]);
    assert.equal(f(wrapped, 3, 3 + payload.length), want, `${name} (offset)`);
  }
});

function rtp(seq: number, ts: number, payload: Buffer): Buffer {
  const p = Buffer.alloc(12 + payload.length);
  writeRtpHeader(p, 0, { marker: false, payloadType: 96, sequenceNumber: seq, timestamp: ts, ssrc: 7 });
  payload.copy(p, 12);
  return p;
}
const rec = (channel: number, packet: Buffer): Buffer =>
  Buffer.concat([interleavedHeader(channel, packet.length), packet]);
const RTCP_SR = Buffer.concat([b(0x80, 200, 0, 6), Buffer.alloc(24)]);
const TS0 = 0xffff_ff00; // video RTP timestamps wrap during the stream

const PLAY_REPLY = 'RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: 12AB;timeout=60\r\nRange: npt=0.000-\r\n\r\n';
const KEEPALIVE_REPLY = 'RTSP/1.0 200 OK\r\nCSeq: 5\r\nSession: 12AB\r\nContent-Length: 5\r\n\r\nhello';
/** The first video packet that is a key frame: a 300-byte FU-A start of an IDR (cut by most splits). */
const KEY_SEQ = 102;

/** PLAY reply, video (ch 0) with a gap and the key frame in a FU-A, audio (ch 2) with a gap, RTCP, a keepalive answer. */
const STREAM = Buffer.concat([
  Buffer.from(PLAY_REPLY),
  rec(0, rtp(100, TS0, b(0x78, 0, 2, 0x67, 0x42, 0, 1, 0x68))), // STAP-A SPS+PPS: not a key frame
  rec(0, rtp(101, TS0, b(0x5c, 0x81, 1, 2, 3))), // FU-A start of a non-IDR slice
  rec(2, rtp(500, 1000, b(0, 16, 0, 8, 1, 2))),
  rec(1, RTCP_SR),
  rec(0, rtp(KEY_SEQ, TS0 + 3600, Buffer.concat([b(0x7c, 0x85), Buffer.alloc(298, 0xab)]))),
  rec(2, rtp(503, 2024, b(0, 16, 0, 8, 1, 2))), // 501 and 502 missing
  Buffer.from(KEEPALIVE_REPLY),
  rec(0, rtp(103, TS0 + 7200, b(0x7c, 0x45, 9))),
  rec(0, rtp(105, TS0 + 3600 * 4, b(0x41, 1))), // B-frame order: newest media time stays
  rec(0, rtp(106, TS0 + 3600 * 3, b(0x41, 1))),
  rec(3, RTCP_SR),
  rec(9, b(1, 2, 3)), // a channel the player did not set up
]);

interface Seen {
  s: RtspInterleavedScanner;
  keyAtVideoPackets: number;
  keyAtMs: number;
  responses: RtspBenchResponse[];
}

function feed(chunks: Buffer[]): Seen {
  const s = new RtspInterleavedScanner();
  const seen: Seen = { s, keyAtVideoPackets: -1, keyAtMs: -1, responses: [] };
  s.onFirstKeyFrame = () => {
    assert.equal(seen.keyAtVideoPackets, -1, 'first key frame reported once');
    seen.keyAtVideoPackets = s.packets[0]!;
    seen.keyAtMs = s.lastVideoMs;
  };
  s.onResponse = (r) => seen.responses.push({ ...r, body: Buffer.from(r.body) });
  for (const c of chunks) s.push(c);
  return seen;
}

function check(seen: Seen, label: string): void {
  const { s } = seen;
  assert.deepEqual(s.packets, [6, 1, 2, 1], label);
  assert.equal(s.otherPackets, 1, label);
  assert.equal(s.bytes[1], RTCP_SR.length, label);
  assert.deepEqual(s.seqGaps, [1, 0, 1, 0], label); // 103 -> 105, 500 -> 503
  assert.deepEqual(s.lostPackets, [1, 0, 2, 0], label);
  assert.equal(seen.keyAtVideoPackets, 3, label);
  assert.equal(seen.keyAtMs, 40, label);
  assert.equal(s.lastVideoMs, 160, label);
  assert.deepEqual(
    seen.responses.map((r) => [r.status, r.session, r.timeoutS, r.body.toString()]),
    [
      [200, '12AB', 60, ''],
      [200, '12AB', null, 'hello'],
    ],
    label,
  );
}

test('RtspInterleavedScanner: same counts, gaps, key frame and responses for every split', () => {
  check(feed([STREAM]), 'whole');
  check(feed(Array.from({ length: STREAM.length }, (_, i) => STREAM.subarray(i, i + 1))), 'byte by byte');
  for (let cut = 0; cut <= STREAM.length; cut++) {
    check(feed([STREAM.subarray(0, cut), STREAM.subarray(cut)]), `cut ${cut}`);
    const chunks = [STREAM.subarray(0, cut)];
    for (let at = cut; at < STREAM.length; at += 7) chunks.push(STREAM.subarray(at, at + 7));
    check(feed(chunks), `cut ${cut} step 7`);
  }
});

test('RtspInterleavedScanner: key frame in a STAP-A, and in a single NAL, on another video channel', () => {
  for (const [channel, payload] of [
    [0, b(0x78, 0, 2, 0x67, 0x42, 0, 1, 0x68, 0, 2, 0x65, 0x88)],
    [2, b(0x65, 0x88)],
  ] as const) {
    const s = new RtspInterleavedScanner();
    s.videoChannel = channel;
    let keys = 0;
    s.onFirstKeyFrame = () => keys++;
    const other = channel === 0 ? 2 : 0;
    s.push(
      Buffer.concat([
        rec(other, rtp(1, 0, b(0x65))),
        rec(channel, rtp(1, 0, payload)),
        rec(channel, rtp(2, 0, payload)),
      ]),
    );
    assert.equal(keys, 1, `channel ${channel}`);
  }
});

test('RtspInterleavedScanner: errors are ProtocolErrors with stable codes', () => {
  const cases: [string, Buffer, string][] = [
    ['garbage', Buffer.from('\x00\x01'), 'RTSP_BENCH_LOST_SYNC'],
    ['lowercase text', Buffer.from('rtsp/1.0 200 OK\r\n\r\n'), 'RTSP_BENCH_LOST_SYNC'],
    ['short RTP', rec(0, b(0x80, 96, 0, 1)), 'RTP_TRUNCATED'],
    ['RTP version 1', rec(2, Buffer.concat([b(0x40), Buffer.alloc(11)])), 'RTP_BAD_VERSION'],
    ['head too large', Buffer.from(`RTSP/1.0 200 OK\r\nX: ${'a'.repeat(9000)}`), 'RTSP_BENCH_HEAD_TOO_LARGE'],
    [
      'body too large',
      Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: 100000\r\n\r\n'),
      'RTSP_BENCH_BODY_TOO_LARGE',
    ],
    ['bad length', Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n'), 'RTSP_BENCH_BAD_LENGTH'],
  ];
  for (const [name, bytes, code] of cases) {
    assert.throws(
      () => new RtspInterleavedScanner().push(bytes),
      (e: unknown) => e instanceof ProtocolError && e.code === code,
      name,
    );
  }
  // RTCP and unknown channels are not read as RTP.
  assert.doesNotThrow(() => new RtspInterleavedScanner().push(Buffer.concat([rec(1, b(1)), rec(7, b())])));
});

test('RtspInterleavedScanner: mutated streams raise only ProtocolError, counts stay bounded', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(STREAM.length - 1), fc.nat(255)), { maxLength: 8 }),
      fc.array(fc.nat(STREAM.length), { maxLength: 4 }),
      (flips, cuts) => {
        const bytes = Buffer.from(STREAM);
        for (const [at, v] of flips) bytes[at] = v;
        const bounds = [0, ...cuts.sort((x, y) => x - y), bytes.length];
        const s = new RtspInterleavedScanner();
        try {
          for (let i = 1; i < bounds.length; i++) s.push(bytes.subarray(bounds[i - 1], bounds[i]));
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
        assert.ok(s.packets.reduce((a, n) => a + n, 0) + s.otherPackets <= bytes.length / 4);
      },
    ),
    { numRuns: 2000 },
  );
});

test('sdpTracks: kinds, control URLs and codec', () => {
  const sdp = [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=live/a',
    't=0 0',
    'm=video 0 RTP/AVP 96',
    'a=rtpmap:96 H264/90000',
    'a=control:trackID=0',
    'm=audio 0 RTP/AVP 97',
    'a=rtpmap:97 MPEG4-GENERIC/44100/2',
    'a=control:rtsp://h:1/live/a/trackID=1',
    'm=application 0 RTP/AVP 98',
    '',
  ].join('\r\n');
  assert.deepEqual(sdpTracks(sdp, 'rtsp://h:1/live/a'), [
    { kind: 'video', control: 'rtsp://h:1/live/a/trackID=0', codec: 'h264' },
    { kind: 'audio', control: 'rtsp://h:1/live/a/trackID=1', codec: 'h264' },
  ]);
  const hevc = sdpTracks('v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 H265/90000\n', 'rtsp://h/x/');
  assert.deepEqual(hevc, [{ kind: 'video', control: 'rtsp://h/x/', codec: 'h265' }]);
});
