// The bench's MPEG-TS scanner and HLS client logic. Run: node --import tsx --test test/bench/ts-hls-clients.test.ts
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import { TS_PACKET_SIZE } from '../../libs/mpegts/index.ts';
import { demuxAll, framesFromFlv, muxAll, pesEvents, xFlv } from '../unit/mpegts/helpers.ts';
import { parseMediaPlaylist, type MediaPlaylist } from './hls-playlist.ts';
import { LATE_FACTOR, PlaylistFollower } from './playlist-follower.ts';
import { TsPacketScanner } from './ts-scanner.ts';

const X_FLV = new URL('../fixtures/flv/x.flv', import.meta.url).pathname;
const hasFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;

/** x.flv remuxed by ffmpeg's own MPEG-TS muxer (H.264 on PID 0x100, AAC on 0x101, RAI on key frames). */
function ffmpegTs(extra: string[] = []): Buffer {
  // prettier-ignore
  const r = spawnSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-i', X_FLV, '-c', 'copy', ...extra, '-f', 'mpegts', 'pipe:1',
  ], { maxBuffer: 1 << 20 });
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout;
}

const packetsOf = (ts: Buffer): Buffer[] =>
  Array.from({ length: ts.length / TS_PACKET_SIZE }, (_, i) =>
    ts.subarray(i * TS_PACKET_SIZE, (i + 1) * TS_PACKET_SIZE),
  );
const pidOf = (p: Buffer): number => ((p[1]! & 0x1f) << 8) | p[2]!;
const pusi = (p: Buffer): boolean => (p[1]! & 0x40) !== 0;

/** What the scanner should find, worked out independently with the full demuxer. */
function expected(ts: Buffer): { lastMs: number; keyPacket: number; videoPid: number } {
  const pes = pesEvents(demuxAll(ts));
  const video = pes.filter((e) => e.streamType === 0x1b);
  const last = pes.reduce((a, b) => (b.packetIndex > a.packetIndex ? b : a));
  const key = video.find((e) => e.randomAccess)!;
  return { lastMs: Math.round(last.dts90k! / 90), keyPacket: key.packetIndex, videoPid: key.pid };
}

/** Feeds `ts` cut at `cut`, then in `step`-byte reads; returns the scanner and the packet count at the key frame. */
function scan(ts: Buffer, cut = ts.length, step = ts.length): { s: TsPacketScanner; keyAt: number } {
  const s = new TsPacketScanner();
  let keyAt = -1;
  s.onFirstKeyFrame = () => {
    keyAt = s.packets - 1;
  };
  s.push(ts.subarray(0, cut));
  for (let at = cut; at < ts.length; at += step) s.push(ts.subarray(at, Math.min(ts.length, at + step)));
  return { s, keyAt };
}

test(
  'TsPacketScanner on ffmpeg TS: same packets, key frame, timestamp for every split',
  { skip: !hasFfmpeg },
  () => {
    const ts = ffmpegTs();
    const want = expected(ts);
    assert.equal(want.videoPid, 0x100);
    for (let cut = 0; cut <= ts.length; cut += 7) {
      for (const step of [1, 188, 1000]) {
        if (step === 1 && cut % 97 !== 0) continue; // byte-by-byte on a sample of cuts keeps this fast
        const { s, keyAt } = scan(ts, cut, step);
        const at = `cut ${cut} step ${step}`;
        assert.equal(s.packets, ts.length / TS_PACKET_SIZE, at);
        assert.equal(s.partialBytes, 0, at);
        assert.equal(keyAt, want.keyPacket, at);
        assert.equal(s.lastTimestampMs, want.lastMs, at);
        assert.equal(s.ccGaps, 0, at);
        assert.equal(s.videoPidSeen, 0x100, at);
      }
    }
  },
);

test('TsPacketScanner on Sluice TsMuxer output: key frame and timestamps in the publisher clock', () => {
  const frames = framesFromFlv(xFlv());
  const ts = muxAll(frames);
  const want = expected(ts);
  const { s, keyAt } = scan(ts, 100, 333);
  assert.equal(keyAt, want.keyPacket);
  assert.equal(s.lastTimestampMs, want.lastMs);
  // The muxer writes FLV milliseconds x 90: the scanner gives back a muxed frame's FLV timestamp.
  const media = frames.filter((f) => (f.kind === 8 || f.kind === 9) && !f.isSequenceHeader);
  assert.ok(media.some((f) => f.timestampMs === s.lastTimestampMs));
  assert.equal(s.ccGaps, 0);
});

test('TsPacketScanner.onFrame: every video frame from the key frame on, at its FLV timestamp, for every split', () => {
  // Three hours in (past 2^24 ms and 2^31 ticks) so the 33-bit arithmetic matters; x.flv has B-frames,
  // so PTS differs from DTS and only the DTS is the FLV timestamp.
  const offsetMs = 3 * 3600 * 1000 + 7;
  const frames = framesFromFlv(xFlv()).map((f) => ({ ...f, timestampMs: f.timestampMs + offsetMs }));
  const ts = muxAll(frames);
  // AVC NALU packets (AVCPacketType 1): x.flv ends with an end-of-sequence tag, which makes no PES.
  const video = frames.filter((f) => f.kind === 9 && f.payload[1] === 1);
  assert.ok(video[0]!.isKeyFrame);
  const want = video.map((f) => f.timestampMs);
  for (let cut = 0; cut <= ts.length; cut++) {
    const s = new TsPacketScanner();
    const got: number[] = [];
    s.onFrame = (ms) => got.push(ms);
    s.push(ts.subarray(0, cut));
    // The same bytes as one `end`-bounded read of a larger buffer, as a shared read buffer gives them.
    const rest = Buffer.concat([ts.subarray(cut), Buffer.alloc(50, 0x47)]);
    s.push(rest, ts.length - cut);
    assert.deepEqual(got, want, `cut ${cut}`);
  }
});

test('TsPacketScanner: no key frame when the key frame PES is missing', { skip: !hasFfmpeg }, () => {
  const packets = packetsOf(ffmpegTs());
  const firstVideo = packets.findIndex((p) => pidOf(p) === 0x100 && pusi(p));
  const secondVideo = packets.findIndex((p, i) => i > firstVideo && pidOf(p) === 0x100 && pusi(p));
  const cut = Buffer.concat(
    packets.filter((p, i) => !(pidOf(p) === 0x100 && i >= firstVideo && i < secondVideo)),
  );
  const { s, keyAt } = scan(cut);
  assert.equal(keyAt, -1);
  assert.equal(s.lastTimestampMs, -1, 'no timestamps before the viewer could start');
});

test(
  'TsPacketScanner: an IDR in the first packet counts without random_access_indicator',
  { skip: !hasFfmpeg },
  () => {
    // Without x264's SEI, the IDR NAL unit starts inside the first packet of the key frame's PES.
    const packets = packetsOf(ffmpegTs(['-bsf:v', 'filter_units=remove_types=6']));
    const want = expected(Buffer.concat(packets));
    for (const p of packets) if ((p[3]! & 0x20) !== 0 && p[4]! > 0) p[5]! &= ~0x40;
    const { keyAt } = scan(Buffer.concat(packets));
    assert.equal(keyAt, want.keyPacket);
  },
);

test('TsPacketScanner: a lost packet is a continuity gap', { skip: !hasFfmpeg }, () => {
  const packets = packetsOf(ffmpegTs());
  for (const pid of [0x100, 0x101]) {
    const mine = packets.map((p, i) => [p, i] as const).filter(([p]) => pidOf(p) === pid);
    const drop = mine[Math.floor(mine.length / 2)]![1];
    const { s } = scan(Buffer.concat(packets.filter((_, i) => i !== drop)));
    assert.equal(s.ccGaps, 1, `pid ${pid}`);
  }
});

test(
  'TsPacketScanner: lost sync is a ProtocolError, never a crash or a wrong count',
  { skip: !hasFfmpeg },
  () => {
    const ts = ffmpegTs();
    const shifted = Buffer.concat([
      ts.subarray(0, 3 * TS_PACKET_SIZE),
      Buffer.from([0x47]),
      ts.subarray(3 * TS_PACKET_SIZE),
    ]);
    const err = (b: Buffer): unknown => {
      try {
        scan(b, 0, 50);
      } catch (e) {
        return e;
      }
      return null;
    };
    for (const bad of [shifted, Buffer.concat([Buffer.from('FLV\x01'), ts])]) {
      const e = err(bad);
      assert.ok(e instanceof ProtocolError, String(e));
      assert.equal(e.code, 'TS_LOST_SYNC');
    }
  },
);

test('parseMediaPlaylist: Sluice-shaped playlist, errors named', () => {
  const text =
    '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:7\n' +
    '#EXT-X-DISCONTINUITY-SEQUENCE:0\n#EXTINF:4.000,\ns.hls/e1-7.ts\n#EXTINF:4.000,\ns.hls/e1-8.ts\n';
  assert.deepEqual(parseMediaPlaylist(text), {
    targetDurationS: 4,
    mediaSequence: 7,
    uris: ['s.hls/e1-7.ts', 's.hls/e1-8.ts'],
    ended: false,
  });
  assert.equal(parseMediaPlaylist(`${text}#EXT-X-ENDLIST\n`).ended, true);
  assert.equal(parseMediaPlaylist(text.replace(/\n/g, '\r\n')).uris[1], 's.hls/e1-8.ts');
  for (const [bad, why] of [
    ['not a playlist', /#EXTM3U/],
    ['#EXTM3U\n#EXTINF:1,\na.ts\n', /TARGETDURATION/],
    ['#EXTM3U\n#EXT-X-TARGETDURATION:x\n', /decimal/],
    ['#EXTM3U\n#EXT-X-TARGETDURATION:0\n', /is 0/],
    [`#EXTM3U\n${'#'.repeat(300_000)}`, /bytes/],
  ] as const) {
    assert.throws(
      () => parseMediaPlaylist(bad),
      (e: unknown) => e instanceof ProtocolError && why.test(e.message),
    );
  }
});

/** A live window of `n` segments ending at `newest`, target 4 s. */
const window = (newest: number, n = 3): MediaPlaylist => ({
  targetDurationS: 4,
  mediaSequence: Math.max(0, newest - n + 1),
  uris: Array.from({ length: Math.min(n, newest + 1) }, (_, i) => `e-${Math.max(0, newest - n + 1) + i}.ts`),
  ended: false,
});

test('PlaylistFollower: starts at the newest segment, then fetches each new one once', () => {
  const f = new PlaylistFollower();
  assert.deepEqual(f.update(window(5), 0, 10).fetch, ['e-5.ts']);
  assert.deepEqual(f.update(window(5), 2000, 2010).fetch, []);
  assert.deepEqual(f.update(window(6), 4000, 4010), {
    fetch: ['e-6.ts'],
    late: false,
    skipped: 0,
    gapMs: 1990,
  });
  // Two at once: both fetched in order.
  assert.deepEqual(f.update(window(8), 6000, 6010).fetch, ['e-7.ts', 'e-8.ts']);
  // Polls so slow that segments left the window: skipped, not fetched.
  const s = f.update(window(13), 30_000, 30_010);
  assert.deepEqual([s.fetch, s.skipped], [['e-11.ts', 'e-12.ts', 'e-13.ts'], 2]);
});

test('PlaylistFollower: late only when the gap is certain, whatever the poll phase', () => {
  const target = 4000;
  const limit = LATE_FACTOR * target;
  // Segments every 4 s polled every 2 s at any phase: the certain gap stays under 1.5 x target.
  for (let phase = 0; phase < 2000; phase += 50) {
    const f = new PlaylistFollower();
    let late = 0;
    for (let t = phase; t < 40_000; t += 2000) {
      const newest = Math.floor(t / target); // segment k appears at k x 4 s
      late += f.update(window(newest), t, t + 5).late ? 1 : 0;
    }
    assert.equal(late, 0, `phase ${phase}`);
  }
  // A segment still missing 8 s after the previous one appeared (a stalled publisher) is late...
  const f = new PlaylistFollower();
  f.update(window(1), 0, 5); // e-1 seen
  for (let t = 2000; t <= 8000; t += 2000) f.update(window(1), t, t + 5);
  const step = f.update(window(2), 10_000, 10_005);
  assert.equal(step.gapMs, 7995);
  assert.ok(step.gapMs > limit);
  assert.equal(step.late, true);
  // ...one missing at 6 s but there at 8 s may have come at 6.001 s: not certainly late.
  const g = new PlaylistFollower();
  g.update(window(1), 0, 5);
  for (let t = 2000; t <= 6000; t += 2000) g.update(window(1), t, t + 5);
  assert.equal(g.update(window(2), 8000, 8005).late, false);
});
