// Self-test of the bench's pure parts. Run: node --import tsx --test test/bench/bench.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFlvHeader, encodeFlvTag } from '../../libs/flv/index.ts';
import { isComparison, parseBenchArgs } from './args.ts';
import { comparePlan } from './compare.ts';
import { formatCompareReport, withCpuRatios, type CompareRun, type ServerName } from './compare-report.ts';
import { FlvTagScanner } from './flv-scanner.ts';
import { isPlayableKeyFrame } from './keyframe.ts';
import { lalConfig } from './peer-lal.ts';
import { nginxRtmpConfig } from './peer-nginx.ts';
import { formatCpuList, parseCpuList, pinnedCommand, planPinning, resolvePinning } from './pinning.ts';
import { judgePlayers, spread, type BenchReport } from './report.ts';
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

test('parseBenchArgs: --players LIST, --coalesce, --peer, --pin', () => {
  const one = parseBenchArgs(['--players', '20']);
  assert.ok(one !== 'help');
  assert.deepEqual(
    [one.players, one.playerCounts, one.coalesceMs, one.peer, one.pin],
    [20, [20], [], null, null],
  );
  assert.equal(isComparison(one), false);
  const list = parseBenchArgs(['--players', '1,200,1000', '--coalesce', '0,30', '--peer', 'nginx-rtmp']);
  assert.ok(list !== 'help');
  assert.deepEqual([list.players, list.playerCounts, list.coalesceMs], [1, [1, 200, 1000], [0, 30]]);
  assert.equal(isComparison(list), true);
  const c = parseBenchArgs(['--coalesce', '30']);
  assert.ok(c !== 'help' && isComparison(c));
  const refused: [string[], RegExp][] = [
    [['--players', '1,,2'], /--players must be a number/],
    [['--players', '1,5001'], /--players must be a number in 1\.\.5000/],
    [['--players', '5,5'], /each value at most once/],
    [['--coalesce', '0,1001'], /--coalesce must be a number in 0\.\.1000/],
    [['--coalesce', ''], /--coalesce must be a number/],
    [['--peer', 'srs'], /--peer must be one of nginx-rtmp, lal/],
    [['--peer', 'nginx-rtmp', '--proto', 'flv'], /nginx-rtmp serves RTMP only/],
    [['--peer', 'nginx-rtmp', '--proto', 'hls'], /nginx-rtmp serves RTMP only/],
    [['--peer', 'lal'], /--peer lal needs --lal-bin/],
    [['--peer', 'lal', '--lal-bin', '/nonexistent/lalserver'], /is not an executable file/],
    [['--peer', 'lal', '--lal-bin', process.execPath, '--proto', 'hls'], /--peer lal is compared with/],
    [['--lal-bin', process.execPath], /--lal-bin only applies to --peer lal/],
    [['--peer', 'nginx-rtmp', '--lal-bin', process.execPath], /--lal-bin only applies to --peer lal/],
    [['--peer', 'nginx-rtmp', '--server', 'h'], /fresh server per run: drop the target/],
    [['--coalesce', '0', '--rtmp', 'rtmp://h:1'], /fresh server per run: drop the target/],
    [['--players', '1,2', '--server', 'h'], /fresh server per run: drop the target/],
    [['--streams', '2', '--coalesce', '0'], /not with --streams/],
    [['--streams', '2', '--peer', 'nginx-rtmp'], /not with --streams/],
    [['--pin', '--no-pin'], /choose one/],
    [['--pin', '--server', 'h'], /--pin applies to a spawned server/],
  ];
  for (const [argv, want] of refused) assert.throws(() => parseBenchArgs(argv), want, argv.join(' '));
  // Any executable stands in for lalserver: only the arguments are checked here.
  const lal = parseBenchArgs(['--peer', 'lal', '--lal-bin', process.execPath, '--proto', 'ts']);
  assert.ok(lal !== 'help');
  assert.deepEqual([lal.peer, lal.lalBin, lal.proto], ['lal', process.execPath, 'ts']);
  const pins = [[], ['--pin'], ['--no-pin'], ['--server', 'h']].map((a) => {
    const r = parseBenchArgs(a);
    return r === 'help' ? 'help' : r.pin;
  });
  assert.deepEqual(pins, [null, true, false, false]);
});

test('comparePlan interleaves per player count: peer, then each Sluice setting', () => {
  const a = parseBenchArgs(['--players', '1,1000', '--coalesce', '0,30', '--peer', 'nginx-rtmp']);
  assert.ok(a !== 'help');
  assert.deepEqual(
    comparePlan(a).map((r) => `${r.server}@${r.writeCoalesceMs}x${r.players}`),
    [
      'nginx-rtmp@nullx1',
      'sluice@0x1',
      'sluice@30x1',
      'nginx-rtmp@nullx1000',
      'sluice@0x1000',
      'sluice@30x1000',
    ],
  );
  const b = parseBenchArgs(['--players', '3,2']);
  assert.ok(b !== 'help');
  assert.deepEqual(
    comparePlan(b).map((r) => `${r.server}@${r.writeCoalesceMs}x${r.players}`),
    ['sluice@nullx3', 'sluice@nullx2'],
  );
});

test('withCpuRatios: CPU over the peer at the same player count; missing figures give null', () => {
  const report = (cpu: number | null): BenchReport =>
    ({ server: { cpuAvgPct: cpu } }) as unknown as BenchReport;
  const run = (server: ServerName, players: number, cpu: number | null, failed = false): CompareRun => ({
    server,
    writeCoalesceMs: null,
    players,
    cpuRatio: null,
    report: failed ? null : report(cpu),
    error: failed ? 'x' : null,
  });
  const out = withCpuRatios(
    [
      run('nginx-rtmp', 1, 4),
      run('sluice', 1, 3),
      run('nginx-rtmp', 200, 0),
      run('sluice', 200, 5),
      run('nginx-rtmp', 1000, 20, true),
      run('sluice', 1000, 9),
      run('sluice', 1, null),
    ],
    'nginx-rtmp',
  );
  assert.deepEqual(
    out.map((r) => r.cpuRatio),
    [1, 0.75, null, null, null, null, null],
  );
  assert.deepEqual(
    withCpuRatios([run('sluice', 1, 3)], null).map((r) => r.cpuRatio),
    [null],
  );
  // The table shows '-' for what is missing, including the latency another probe fills in.
  const text = formatCompareReport({
    proto: 'rtmp',
    durationS: 8,
    bitrateKbps: 500,
    peer: 'nginx-rtmp',
    pinning: 'not pinned (--no-pin)',
    runs: [{ ...run('sluice', 1, 3), error: null, report: null }],
  });
  assert.match(text, /sluice\s+coalesce 100 ms \(default\)\s+1\s+failed/);
});

test('CPU lists, pinning plan and the pinned command line', () => {
  assert.deepEqual(parseCpuList('0-3,5'), [0, 1, 2, 3, 5]);
  assert.deepEqual(parseCpuList('1'), [1]);
  assert.throws(() => parseCpuList('3-1'), /not a CPU list/);
  assert.throws(() => parseCpuList('a'), /not a CPU list/);
  assert.equal(formatCpuList([1, 2, 3, 5, 7, 8]), '1-3,5,7-8');
  assert.deepEqual(planPinning([0, 1]), { serverCpu: 0, benchCpus: [1] });
  assert.deepEqual(planPinning([2, 3, 4]), { serverCpu: 2, benchCpus: [3, 4] });
  assert.equal(planPinning([0]), null);
  assert.deepEqual(pinnedCommand(0, '/usr/sbin/nginx', ['-c', 'x']), [
    'taskset',
    ['-c', '0', '/usr/sbin/nginx', '-c', 'x'],
  ]);
  assert.deepEqual(pinnedCommand(null, 'node', ['a']), ['node', ['a']]);
  assert.deepEqual(resolvePinning(false), { plan: null, why: 'not pinned (--no-pin)' });
});

test('nginxRtmpConfig: one unprivileged process, files in the work dir, Sluice chunk size', () => {
  const conf = nginxRtmpConfig({
    workDir: '/w/.bench/nginx',
    rtmpPort: 1935,
    app: 'bench',
    players: 1000,
    modulePath: '/m/ngx_rtmp_module.so',
  });
  for (const line of [
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    'pid /w/.bench/nginx/nginx.pid;',
    'error_log /w/.bench/nginx/nginx-error.log warn;',
    'load_module /m/ngx_rtmp_module.so;',
    'worker_connections 1064;',
    'listen 127.0.0.1:1935;',
    'chunk_size 4096;',
    'application bench {',
    'live on;',
  ])
    assert.ok(conf.includes(line), line);
  assert.doesNotMatch(conf, /^\s*(user|http)\b/m);
});

test('lalConfig: loopback ports, a one-GOP cache as Sluice, HLS in memory, no extra listeners', () => {
  const c = lalConfig('/w/.bench/lal', { rtmp: 1, http: 2, rtsp: 3 }) as Record<
    string,
    Record<string, unknown>
  >;
  assert.equal(c.rtmp!.addr, '127.0.0.1:1');
  assert.equal(c.default_http!.http_listen_addr, '127.0.0.1:2');
  assert.equal(c.rtsp!.addr, '127.0.0.1:3');
  for (const k of ['rtmp', 'httpflv', 'httpts']) assert.equal(c[k]!.gop_num, 1, k);
  assert.deepEqual([c.httpflv!.url_pattern, c.httpts!.url_pattern], ['/', '/']);
  assert.deepEqual([c.hls!.enable, c.hls!.use_memory_as_disk_flag], [true, true]);
  assert.deepEqual(
    [c.rtmp!.rtmps_enable, c.rtsp!.rtsps_enable, c.rtsp!.ws_rtsp_enable, c.http_api!.enable, c.pprof!.enable],
    [false, false, false, false, false],
  );
  assert.equal(c.log!.level, 3);
});
