// Self-test of the bench's pure parts. Run: node --import tsx --test test/bench/bench.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFlvHeader, encodeFlvTag } from '../../libs/flv/index.ts';
import { parseBenchArgs } from './args.ts';
import { FlvTagScanner } from './flv-scanner.ts';
import { isPlayableKeyFrame } from './keyframe.ts';
import { judgePlayers, spread } from './report.ts';
import type { PlayerStats } from './players.ts';
import { cpuPercents } from './sampler.ts';

test('isPlayableKeyFrame', () => {
  const cases: [number, number, boolean][] = [
    [0x17, 0x01, true], // AVC key frame NALUs
    [0x17, 0x00, false], // AVC sequence header
    [0x27, 0x01, false], // AVC inter frame
    [0x1c, 0x01, true], // legacy HEVC (codec 12) key frame
    [0x1c, 0x00, false],
    [0x12, 0x00, true], // Sorenson key frame: no packet type byte
    [0x91, 0x00, true], // enhanced, key, CodedFrames
    [0x93, 0x00, true], // enhanced, key, CodedFramesX
    [0x90, 0x00, false], // enhanced SequenceStart
    [0xa1, 0x00, false], // enhanced inter frame
  ];
  for (const [b0, b1, want] of cases)
    assert.equal(isPlayableKeyFrame(b0, b1), want, `${b0.toString(16)} ${b1}`);
});

test('FlvTagScanner gives the same result for every split of the stream', () => {
  const stream = Buffer.concat([
    encodeFlvHeader(true, true),
    encodeFlvTag(18, 0, Buffer.from('meta')),
    encodeFlvTag(9, 0, Buffer.from([0x17, 0, 0, 0, 0, 1, 2])),
    encodeFlvTag(8, 0, Buffer.from([0xaf, 0])),
    encodeFlvTag(8, 21, Buffer.alloc(0)),
    encodeFlvTag(9, 40, Buffer.from([0x27, 1, 0, 0, 0, 9])),
    encodeFlvTag(9, 0x1000050, Buffer.from([0x17, 1, 0, 0, 0, 9, 9])),
    encodeFlvTag(8, 0x1000070, Buffer.from([0xaf, 1, 5])),
  ]);
  for (let cut = 0; cut <= stream.length; cut++) {
    for (const step of [1, 7, stream.length]) {
      const s = new FlvTagScanner();
      let keyAt = -1;
      const frames: number[] = [];
      s.onFirstKeyFrame = () => {
        keyAt = s.lastTimestampMs;
      };
      s.onFrame = (ts) => frames.push(ts);
      s.push(stream.subarray(0, cut));
      for (let at = cut; at < stream.length; at += step) {
        // Each read as the start of a larger buffer, bounded by `end` (a shared read buffer).
        const piece = stream.subarray(at, Math.min(stream.length, at + step));
        s.push(Buffer.concat([piece, Buffer.alloc(3, 0xff)]), piece.length);
      }
      assert.equal(s.lastTimestampMs, 0x1000070, `cut ${cut} step ${step}`);
      assert.equal(keyAt, 0x1000050, `cut ${cut} step ${step}`);
      assert.deepEqual(frames, [0, 0, 21, 40, 0x1000050, 0x1000070], `cut ${cut} step ${step}`);
    }
  }
});

test('spread uses nearest rank', () => {
  assert.deepEqual(spread([5, 1, 3, 2, 4]), { min: 1, median: 3, p95: 5, p99: 5, max: 5 });
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.deepEqual(spread(hundred), { min: 1, median: 50, p95: 95, p99: 99, max: 100 });
  assert.equal(spread([]), null);
});

test('judgePlayers: bitrate, lag, failures', () => {
  const base: PlayerStats = {
    startedAt: 0,
    connectMs: 10,
    firstKeyFrameMs: 12,
    lastTimestampMs: 1000,
    maxLagMs: 100,
    bytesAtWindowStart: 0,
    bytesAtWindowEnd: 62_500, // 500 kbps over 1 s
    failure: null,
    endedEarly: null,
    stopped: false,
  };
  const v = judgePlayers(
    [
      base,
      { ...base, bytesAtWindowEnd: 50_000 }, // 400 kbps: low
      { ...base, maxLagMs: 2500 }, // lagging
      { ...base, connectMs: -1, failure: 'ECONNREFUSED' },
    ],
    1,
    500,
  );
  assert.equal(v.connectFailures, 1);
  assert.deepEqual(v.failureCodes, { ECONNREFUSED: 1 });
  assert.deepEqual(v.fellBehind, {
    total: 2,
    lowBitrate: 1,
    lagging: 1,
    endedEarly: 0,
    noKeyFrame: 0,
    ccGaps: 0,
    seqGaps: 0,
    hls: 0,
  });
});

test('judgePlayers: TS continuity gaps and HLS verdicts; HLS skips bitrate and lag', () => {
  const base: PlayerStats = {
    startedAt: 0,
    connectMs: 10,
    firstKeyFrameMs: 12,
    lastTimestampMs: -1,
    maxLagMs: 9000,
    bytesAtWindowStart: 0,
    bytesAtWindowEnd: 1000,
    failure: null,
    endedEarly: null,
    stopped: false,
  };
  const ts = judgePlayers([{ ...base, maxLagMs: 0, bytesAtWindowEnd: 62_500, ccGaps: 3 }], 1, 500);
  assert.deepEqual([ts.fellBehind.total, ts.fellBehind.ccGaps], [1, 1]);
  const rtsp = judgePlayers([{ ...base, maxLagMs: 0, bytesAtWindowEnd: 62_500, seqGaps: 2 }], 1, 500);
  assert.deepEqual([rtsp.fellBehind.total, rtsp.fellBehind.seqGaps, rtsp.fellBehind.ccGaps], [1, 1, 0]);
  const hls = judgePlayers([base, { ...base, hlsBehind: true }], 1, 500, { bitrate: false, lag: false });
  assert.deepEqual(hls.fellBehind, {
    total: 1,
    lowBitrate: 0,
    lagging: 0,
    endedEarly: 0,
    noKeyFrame: 0,
    ccGaps: 0,
    seqGaps: 0,
    hls: 1,
  });
  assert.deepEqual(hls.lagMs, []);
});

test('cpuPercents: one core = 100', () => {
  const pct = cpuPercents([
    { atMs: 0, cpuMicros: 0, rssBytes: 1 },
    { atMs: 1000, cpuMicros: 500_000, rssBytes: 1 },
    { atMs: 2000, cpuMicros: null, rssBytes: 1 },
  ]);
  assert.deepEqual(pct, [50]);
});

test('parseBenchArgs: defaults, caps and targets', () => {
  const d = parseBenchArgs([]);
  assert.ok(d !== 'help');
  assert.equal(d.players, 100);
  assert.equal(d.proto, 'rtmp');
  assert.equal(d.durationS, 20);
  assert.equal(d.target, null);
  assert.throws(() => parseBenchArgs(['--players', '5001']), /players/);
  assert.throws(() => parseBenchArgs(['--duration', '301']), /duration/);
  assert.throws(() => parseBenchArgs(['--proto', 'dash']), /proto/);
  for (const proto of ['rtmp', 'flv', 'ws-flv', 'ts', 'ws-ts', 'hls', 'rtsp']) {
    const a = parseBenchArgs(['--proto', proto]);
    assert.ok(a !== 'help');
    assert.equal(a.proto, proto);
    assert.equal(a.streams, 0);
  }
  assert.throws(() => parseBenchArgs(['--proto', 'ts', '--rtmp', 'rtmp://h:1']), /--http is required/);
  const t = parseBenchArgs(['--rtmp', 'rtmp://h:1', '--http', 'http://h:2', '--proto', 'flv']);
  assert.ok(t !== 'help');
  assert.deepEqual(t.target, { rtmp: 'rtmp://h:1', http: 'http://h:2', rtsp: '', api: null });
  assert.throws(() => parseBenchArgs(['--proto', 'rtsp', '--rtmp', 'rtmp://h:1']), /--rtsp is required/);
  const r = parseBenchArgs(['--proto', 'rtsp', '--server', 'h']);
  assert.ok(r !== 'help');
  assert.equal(r.target?.rtsp, 'rtsp://h:5544');
  assert.equal(parseBenchArgs(['--help']), 'help');
});

test('parseBenchArgs: --streams and --phases', () => {
  const s = parseBenchArgs(['--streams', '50']);
  assert.ok(s !== 'help');
  assert.equal(s.streams, 50);
  assert.deepEqual(s.phases, ['rtmp', 'rtmp+hls', 'ts+hls']);
  const two = parseBenchArgs(['--streams', '2', '--phases', 'ts+hls,rtmp']);
  assert.ok(two !== 'help');
  assert.deepEqual(two.phases, ['ts+hls', 'rtmp']);
  assert.throws(() => parseBenchArgs(['--streams', '51']), /streams/);
  assert.throws(() => parseBenchArgs(['--streams', '2', '--players', '5']), /--streams sets its own viewers/);
  assert.throws(() => parseBenchArgs(['--streams', '2', '--server', 'h']), /spawns its own servers/);
  assert.throws(() => parseBenchArgs(['--streams', '2', '--phases', 'rtmp,hls']), /--phases takes/);
  assert.throws(() => parseBenchArgs(['--streams', '2', '--phases', 'rtmp,rtmp']), /each at most once/);
  assert.throws(() => parseBenchArgs(['--phases', 'rtmp']), /only applies to --streams/);
  assert.equal(s.publishProto, 'rtmp');
  const rtsp = parseBenchArgs(['--streams', '3', '--publish-proto', 'rtsp', '--phases', 'rtsp,rtmp']);
  assert.ok(rtsp !== 'help');
  assert.deepEqual([rtsp.publishProto, rtsp.phases], ['rtsp', ['rtsp', 'rtmp']]);
  assert.throws(
    () => parseBenchArgs(['--streams', '2', '--publish-proto', 'srt']),
    /--publish-proto must be/,
  );
  assert.throws(() => parseBenchArgs(['--publish-proto', 'rtsp']), /only applies to --streams/);
  assert.throws(() => parseBenchArgs(['--hls-sockets', '0']), /hls-sockets/);
});
