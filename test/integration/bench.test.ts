// Smoke test of `npm run bench` for every player kind and --streams: a few players for a
// few seconds against a real spawned Sluice, with ffmpeg publishers for --streams. The figures are
// not judged (the machine is shared); what is checked is that every client measured something real.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import type { BenchReport } from '../bench/report.ts';
import type { StreamsReport } from '../bench/streams-report.ts';
// The bench spawns bin/sluice.js, which runs dist/: build it when stale.
import './helpers/build.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const RUN_TIMEOUT_MS = 90_000;
const PLAYERS = 3;

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
      // Every frame in the window found the publisher's send time (for TS: DTS / 90 is the FLV
      // timestamp), and the server added something, but not seconds (the coalescing window is 30 ms).
      const lat = r.latencyMs;
      assert.ok(r.latencyFrames !== null && r.latencyFrames.measured > 0, JSON.stringify(r.latencyFrames));
      assert.equal(r.latencyFrames.unmatched, 0);
      assert.ok(lat !== null && lat.median > 0 && lat.median < 500, JSON.stringify(lat));
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
