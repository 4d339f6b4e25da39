// The bench scenarios' pure parts: option parsing and the publisher verdicts.
// Run: node --import tsx --test test/bench/scenarios.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBenchArgs } from './args.ts';
import { judgePublishers, type PublisherWindow } from './publisher-verdicts.ts';
import { benchLimitNote } from './report.ts';
import { benchLimit } from './window-meter.ts';

const scenarioOf = (argv: string[]): unknown => {
  const a = parseBenchArgs(argv);
  assert.ok(a !== 'help');
  return a.scenario;
};

test('parseBenchArgs: scenarios that parse', () => {
  const cases: [string[], unknown][] = [
    [[], null],
    [['--players', '10'], null],
    [['--grid', '100x20'], { kind: 'grid', streams: 100, playersPerStream: 20 }],
    [['--grid', '2x2', '--proto', 'ts'], { kind: 'grid', streams: 2, playersPerStream: 2 }],
    [['--grid', '1000x5'], { kind: 'grid', streams: 1000, playersPerStream: 5 }],
    [['--publishers', '300'], { kind: 'publishers', streams: 300, playersPerStream: 0 }],
    [['--publishers', '3', '--profile'], { kind: 'publishers', streams: 3, playersPerStream: 0 }],
    [['--grid', '2x2', '--profile'], { kind: 'grid', streams: 2, playersPerStream: 2 }],
    [
      ['--publishers', '300', '--viewers-per-stream', '1', '--proto', 'flv'],
      { kind: 'publishers', streams: 300, playersPerStream: 1 },
    ],
    [['--relay'], { kind: 'relay' }],
    [['--relay', '--players', '1000', '--proto', 'flv'], { kind: 'relay' }],
  ];
  for (const [argv, want] of cases) assert.deepEqual(scenarioOf(argv), want, argv.join(' '));
  const relay = parseBenchArgs(['--relay', '--players', '7', '--server-node-args=--max-old-space-size=512']);
  assert.ok(relay !== 'help');
  assert.deepEqual([relay.players, relay.serverNodeArgs], [7, ['--max-old-space-size=512']]);
  // Pinning is a spawned server's, as in fan-out mode: a scenario takes --pin and --no-pin.
  const pinned = parseBenchArgs(['--grid', '2x2', '--pin']);
  assert.ok(pinned !== 'help');
  assert.equal(pinned.pin, true);
  const unpinned = parseBenchArgs(['--relay', '--no-pin']);
  assert.ok(unpinned !== 'help');
  assert.equal(unpinned.pin, false);
});

test('parseBenchArgs: scenario options that are refused, with the reason', () => {
  const cases: [string[], RegExp][] = [
    [['--grid', '100'], /STREAMSxPLAYERS/],
    [['--grid', '0x5'], /grid streams must be an integer in 1\.\./],
    [['--grid', '2x0'], /grid players/],
    [['--grid', '100x51'], /5100 players, at most 5000/],
    [['--grid', '1001x1'], /grid streams/],
    [['--grid', '2x2', '--players', '3'], /drop --players/],
    [['--grid', '2x2', '--streams', '2'], /--streams are separate runs/],
    [['--grid', '2x2', '--publishers', '2'], /--grid and --publishers are separate runs/],
    [['--grid', '2x2', '--relay'], /pick one/],
    [['--grid', '2x2', '--server', 'h'], /spawns its own servers/],
    [['--relay', '--rtmp', 'rtmp://h:1'], /spawns its own servers/],
    [['--relay', '--profile'], /--profile is not summarized/],
    [['--publishers', '1.5'], /publishers must be an integer/],
    [['--publishers', '1001'], /publishers/],
    [['--publishers', '3', '--players', '3'], /drop --players/],
    [['--publishers', '100', '--viewers-per-stream', '51'], /over 5000 players/],
    [['--publishers', '3', '--viewers-per-stream=-1'], /viewers-per-stream must be/],
    [['--viewers-per-stream', '2'], /only applies to --publishers/],
    [['--grid', '2x2', '--viewers-per-stream', '2'], /only applies to --publishers/],
    // A scenario is one run; the comparisons (compare.ts) repeat fan-out runs.
    [
      ['--grid', '2x2', '--peer', 'nginx-rtmp'],
      /--peer and --coalesce compare fan-out runs: not with --grid/,
    ],
    [['--publishers', '3', '--coalesce', '0,30'], /not with --publishers/],
    [['--relay', '--peer', 'nginx-rtmp'], /not with --relay/],
    [['--relay', '--coalesce', '0'], /not with --relay/],
    [['--grid', '2x2', '--players', '1,200'], /a --players list compares fan-out runs\): drop --players/],
    [['--relay', '--players', '1,200'], /--relay measures one player count: give --players N, not a list/],
  ];
  for (const [argv, want] of cases) assert.throws(() => parseBenchArgs(argv), want, argv.join(' '));
});

test('judgePublishers: queue, lateness, ingest and closed each count, a publisher once', () => {
  // 500 kbps: 62 500 bytes per second, the queue bound; 10 s window.
  const ok: PublisherWindow = {
    payloadBytes: 600_000,
    socketBytes: 640_000,
    maxQueuedBytes: 0,
    maxLateMs: 8,
    ingestBytes: 600_000,
    closed: null,
  };
  const v = judgePublishers(
    [
      ok,
      { ...ok, maxQueuedBytes: 62_500 }, // exactly 1 s: not behind
      { ...ok, maxQueuedBytes: 62_501 }, // queued
      { ...ok, maxLateMs: 501 }, // late
      { ...ok, ingestBytes: 539_999 }, // ingest under 90 %
      { ...ok, ingestBytes: null }, // not listed by the server
      { ...ok, maxLateMs: 900, maxQueuedBytes: 100_000, closed: 'ECONNRESET' }, // three reasons
    ],
    10,
    500,
  );
  assert.deepEqual(v.behind, { total: 5, queued: 2, late: 2, ingest: 2, closed: 1 });
  assert.equal(v.publishers, 7);
  assert.equal(v.kbps?.median, 512);
  assert.equal(v.ingestRatio?.max, 1);
  assert.equal(v.maxQueuedMs?.max, 1600);
  // Without the server's figures the ingest check cannot hold anyone behind.
  const blind = judgePublishers([{ ...ok, ingestBytes: null }], 10, 500, { ingest: false });
  assert.equal(blind.behind.total, 0);
  assert.equal(blind.ingestRatio, null);
});

test('benchLimit: late publishers, a stalled loop or a saturated thread make the bench the limit', () => {
  const calm = { cpuAvgPct: 40, eventLoopDelayP50Ms: 1, eventLoopDelayP99Ms: 30, eventLoopDelayMaxMs: 80 };
  assert.equal(benchLimit(calm, 0), null);
  assert.equal(benchLimit({ ...calm, eventLoopDelayP99Ms: 100 }, 0), null);
  assert.match(benchLimit(calm, 3)!, /^3 publishers sent tags late$/);
  assert.match(benchLimit({ ...calm, eventLoopDelayP99Ms: 101 }, 0)!, /event-loop delay p99 101 ms/);
  assert.equal(
    benchLimit({ ...calm, cpuAvgPct: 97, eventLoopDelayP99Ms: 350, eventLoopDelayMaxMs: 900 }, 1),
    '1 publishers sent tags late, event-loop delay p99 350 ms, bench CPU 97 % of its one thread',
  );
  // A fan-out run's note uses the same thresholds.
  const b = { ...calm, rssMaxMb: 100 };
  assert.equal(benchLimitNote({ ...b, eventLoopDelayP99Ms: 100, cpuAvgPct: 90 }), null);
  assert.match(benchLimitNote({ ...b, eventLoopDelayP99Ms: 101 })!, /loop delay p99 101 ms/);
  assert.match(benchLimitNote({ ...b, cpuAvgPct: 91 })!, /bench CPU 91 %/);
});
