// Smoke test of `npm run bench` for every player kind, --streams, --peer and the scenarios (--grid,
// --publishers, --relay with a real origin and edge): a few players for a few seconds against a real
// spawned Sluice (and nginx-rtmp), with ffmpeg publishers for --streams. The figures are
// not judged (the machine is shared); what is checked is that every client measured something real.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import type { CompareReport } from '../bench/compare-report.ts';
import { nginxRtmpMissing } from '../bench/peer-nginx.ts';
import type { GridReport } from '../bench/grid-report.ts';
import type { RelayReport } from '../bench/relay.ts';
import type { BenchReport, Spread } from '../bench/report.ts';
import type { StreamsReport } from '../bench/streams-report.ts';
// The bench spawns bin/sluice.js, which runs dist/: build it when stale.
import './helpers/build.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const RUN_TIMEOUT_MS = 90_000;
const PLAYERS = 3;
/** pinning.ts's description of a plan: the default pins when this process may use 2 CPUs. */
const PINNED = /^server on CPU \d+, bench .* on CPU /;

/** Every frame in the window found its publisher's send time, and the server added something, but not seconds. */
function assertLatencyMeasured(
  lat: Spread | null,
  frames: { measured: number; unmatched: number } | null,
  what: string,
): void {
  assert.ok(frames !== null && frames.measured > 0, `${what}: ${JSON.stringify(frames)}`);
  assert.equal(frames.unmatched, 0, what);
  assert.ok(lat !== null && lat.median > 0 && lat.median < 500, `${what}: ${JSON.stringify(lat)}`);
}

async function bench<T>(args: string[]): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/run.ts', '--json', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const killer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(killer);
  assert.equal(code, 0, `bench ${args.join(' ')} exited ${code}:\n${err}`);
  return JSON.parse(out) as T;
}

test(
  'bench RTMP, FLV and TS players: every player started on a key frame, added latency measured',
  { timeout: 5 * RUN_TIMEOUT_MS },
  async () => {
    for (const proto of ['rtmp', 'flv', 'ws-flv', 'ts', 'ws-ts']) {
      const r = await bench<BenchReport>(['--proto', proto, '--players', String(PLAYERS), '--duration', '6']);
      assert.equal(r.proto, proto);
      assert.equal(r.connectFailures, 0, JSON.stringify(r.failureCodes));
      assert.equal(r.fellBehind.noKeyFrame, 0);
      assert.equal(r.fellBehind.endedEarly, 0);
      assert.ok(
        r.firstKeyFrameMs !== null && r.firstKeyFrameMs.max < 5000,
        JSON.stringify(r.firstKeyFrameMs),
      );
      // For TS: DTS / 90 is the FLV timestamp. The coalescing window is 100 ms by default.
      assertLatencyMeasured(r.latencyMs, r.latencyFrames, proto);
      assert.ok(r.server.rssPerPlayerBytes !== null && r.bench.rssMaxMb > 0);
      const kbps = r.playerKbps!.median;
      // Every player gets the published stream (TS: plus its framing).
      assert.ok(kbps >= r.bitrateKbps.published * 0.9, `${kbps} kbps of ${r.bitrateKbps.published}`);
      if (!proto.endsWith('ts')) continue;
      assert.equal(r.ts?.ccGapPlayers, 0);
      // Packets and bytes are counted separately: 188 bytes each.
      const pps = r.ts!.packetsPerSecondMedian!;
      assert.ok(
        Math.abs((pps * 188 * 8) / 1000 - kbps) <= 0.02 * kbps + 1,
        `${pps} packets/s vs ${kbps} kbps`,
      );
    }
  },
);

test(
  'bench HLS clients: sessions, polls at half the target, every client fetched segments',
  { timeout: RUN_TIMEOUT_MS },
  async () => {
    const r = await bench<BenchReport>(['--proto', 'hls', '--players', String(PLAYERS), '--duration', '12']);
    const h = r.hls!;
    assert.equal(r.connectFailures, 0, JSON.stringify(r.failureCodes));
    assert.equal(h.errors, 0, JSON.stringify(h.errorCodes));
    assert.ok(h.targetDurationS !== null && h.targetDurationS >= 1);
    assert.ok(h.segmentsPerClient!.min >= 1, JSON.stringify(h));
    // One poll per half target duration per client, give or take one at each end of the window.
    const expectPolls = (PLAYERS * r.windowS) / (h.targetDurationS! / 2);
    assert.ok(
      Math.abs(h.window.polls - expectPolls) <= 2 * PLAYERS + 1,
      `${h.window.polls} polls, ~${expectPolls}`,
    );
    assert.equal(r.fellBehind.noKeyFrame, 0);
  },
);

test(
  'bench --streams: ffmpeg publishers, RTMP vs TS + HLS viewers, server CPU per stream',
  { timeout: RUN_TIMEOUT_MS },
  async () => {
    const r = await bench<StreamsReport>(['--streams', '2', '--phases', 'rtmp,ts+hls', '--duration', '6']);
    assert.deepEqual(
      r.phases.map((p) => p.phase),
      ['rtmp', 'ts+hls'],
    );
    for (const p of r.phases) {
      assert.equal(p.publishers.endedEarly, 0, p.notes.join('; '));
      assert.ok(p.server.cpuPerStreamPct !== null && p.server.cpuPerStreamPct > 0);
      assert.equal(p.streamed.players, 2);
      assert.equal(p.streamed.connectFailures, 0, JSON.stringify(p.streamed.failureCodes));
      assert.equal(p.streamed.fellBehind.noKeyFrame, 0);
    }
    const hls = r.phases[1]!.hls!;
    assert.equal(hls.summary.clients, 2);
    assert.equal(hls.summary.errors, 0, JSON.stringify(hls.summary.errorCodes));
    assert.equal(hls.connectFailures, 0);
    assert.equal(r.phases[1]!.streamed.tsCcGapPlayers, 0);
  },
);

test(
  'bench RTSP: players over TCP interleaved, and ffmpeg RTSP publishers with RTSP viewers',
  { timeout: 2 * RUN_TIMEOUT_MS },
  async () => {
    const r = await bench<BenchReport>(['--proto', 'rtsp', '--players', String(PLAYERS), '--duration', '6']);
    assert.equal(r.connectFailures, 0, JSON.stringify(r.failureCodes));
    assert.equal(r.fellBehind.noKeyFrame, 0);
    assert.equal(r.fellBehind.endedEarly, 0);
    assert.equal(r.rtsp?.seqGapPlayers, 0);
    assert.ok(r.rtsp!.packets > 0);
    assert.equal(r.latencyFrames, null, 'RTSP players are not in the latency probe');
    assert.ok(r.playerKbps!.median >= r.bitrateKbps.published * 0.9, JSON.stringify(r.playerKbps));

    const s = await bench<StreamsReport>([
      ...['--streams', '2', '--publish-proto', 'rtsp', '--phases', 'rtsp', '--duration', '6'],
    ]);
    assert.equal(s.publishProto, 'rtsp');
    const p = s.phases[0]!;
    assert.equal(p.publishers.endedEarly, 0, p.notes.join('; '));
    assert.equal(p.streamed.players, 2);
    assert.equal(p.streamed.connectFailures, 0, JSON.stringify(p.streamed.failureCodes));
    assert.equal(p.streamed.fellBehind.noKeyFrame, 0);
    assert.equal(p.streamed.rtspSeqGapPlayers, 0);
  },
);

test(
  'bench --peer nginx-rtmp --coalesce 0,30: three pinned runs, every one measured its players, CPU ratios',
  { timeout: RUN_TIMEOUT_MS, skip: nginxRtmpMissing() ?? false },
  async () => {
    const r = await bench<CompareReport>([
      ...['--peer', 'nginx-rtmp', '--players', String(PLAYERS), '--coalesce', '0,30', '--duration', '6'],
    ]);
    assert.deepEqual(
      r.runs.map((x) => `${x.server}@${x.writeCoalesceMs}`),
      ['nginx-rtmp@null', 'sluice@0', 'sluice@30'],
    );
    if (availableParallelism() >= 2) assert.match(r.pinning, PINNED);
    for (const run of r.runs) {
      const b = run.report;
      assert.ok(b, `${run.server}: ${run.error}`);
      assert.equal(b.players, PLAYERS);
      assert.equal(b.connectFailures, 0, JSON.stringify(b.failureCodes));
      assert.equal(b.fellBehind.noKeyFrame, 0);
      assert.equal(b.fellBehind.endedEarly, 0);
      assert.ok(b.server.cpuAvgPct !== null && b.server.cpuAvgPct > 0, JSON.stringify(b.server));
      assert.ok(b.server.cpuMaxPct !== null && b.server.rssMaxMb !== null);
      assert.ok(run.cpuRatio !== null && run.cpuRatio > 0, `${run.server} ratio ${run.cpuRatio}`);
      assert.ok(b.server.rssPerPlayerBytes !== null, `${run.server}: no KB/player`);
      // nginx-rtmp forwards the publisher's timestamps too: its frames find their send times.
      assertLatencyMeasured(b.latencyMs, b.latencyFrames, `${run.server}@${run.writeCoalesceMs}`);
    }
    // /proc was read from nginx itself (taskset execs), not from a Node process.
    assert.ok(r.runs[0]!.report!.server.rssMaxMb! < 40, JSON.stringify(r.runs[0]!.report!.server));
  },
);

/** The publishers of a grid run all kept pace and the server ingested what they sent. */
function assertPublishersKeptUp(r: GridReport, streams: number): void {
  const p = r.publishers;
  assert.equal(p.publishers, streams);
  assert.deepEqual(p.behind, { total: 0, queued: 0, late: 0, ingest: 0, closed: 0 }, r.notes.join('; '));
  // The server counts tag bodies, the publishers count what they sent: the same bytes.
  assert.ok(p.ingestRatio!.min >= 0.9 && p.ingestRatio!.max <= 1.1, JSON.stringify(p.ingestRatio));
  assert.ok(p.kbps!.min >= 0.9 * r.bitrateKbps.file, `published ${JSON.stringify(p.kbps)}`);
  assert.ok(r.server.cpuAvgPct! > 0 && r.server.rssMaxMb! > 20, JSON.stringify(r.server));
}

test(
  'bench scenarios: --grid 2x2, --publishers 3, --relay through a real origin and edge',
  { timeout: 3 * RUN_TIMEOUT_MS },
  async () => {
    const grid = await bench<GridReport>(['--grid', '2x2', '--duration', '6']);
    assertPublishersKeptUp(grid, 2);
    if (availableParallelism() >= 2) assert.match(grid.pinning!, PINNED);
    const pl = grid.players!;
    assert.equal(pl.players, 4);
    assert.equal(pl.connectFailures, 0, JSON.stringify(pl.failureCodes));
    assert.equal(pl.fellBehind.total, 0, JSON.stringify(pl.fellBehind));
    assert.ok(pl.kbps!.min >= 0.9 * grid.publishers.kbps!.min, JSON.stringify(pl.kbps));
    // Each player against its own stream's publisher: the streams send the same timestamps.
    assertLatencyMeasured(pl.latencyMs, pl.latencyFrames, 'grid');

    const pubs = await bench<GridReport>(['--publishers', '3', '--duration', '6', '--profile']);
    assertPublishersKeptUp(pubs, 3);
    assert.equal(pubs.players, null);
    // --profile: the server's CPU profile, cut to the window, with the ingest code in it.
    assert.match(pubs.profile ?? '', /server CPU profile \(measurement window; \d+ ms busy/);
    assert.match(pubs.profile ?? '', /dist\/libs/);

    const relay = await bench<RelayReport>(['--relay', '--players', '3', '--duration', '6']);
    for (const r of [relay.direct, relay.relay]) {
      assert.equal(r.connectFailures, 0, JSON.stringify(r.failureCodes));
      assert.equal(r.fellBehind.total, 0, JSON.stringify(r.fellBehind));
      assert.ok(r.playerKbps!.min >= 0.9 * r.bitrateKbps.published, JSON.stringify(r.playerKbps));
      assertLatencyMeasured(r.latencyMs, r.latencyFrames, 'relay');
    }
    // Edge players got the stream, so the edge relayed it: it worked, the origin fed it.
    assert.ok(relay.relay.server.cpuAvgPct! > 0 && relay.other.relay.cpuAvgPct! > 0);
    if (availableParallelism() >= 2) assert.match(relay.relay.pinning!, PINNED);
    assert.notEqual(relay.addedMs.firstKeyFrame, null);
    assert.notEqual(relay.addedMs.latency, null);
  },
);
