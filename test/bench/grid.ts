// `npm run bench -- --grid SxP` and `--publishers N`: many streams on one spawned server, each
// with an in-process publisher and its players. See README.md, "Scenarios".
import { Proto, type BenchArgs } from './args.ts';
import { lagAt } from './fanout.ts';
import { formatGridReport, type GridReport } from './grid-report.ts';
import { HlsBenchClient, type HlsCounters } from './hls-client.ts';
import { hlsBehind, snapshotCounters, summarizeHls, windowCounters } from './hls-report.ts';
import { LatencyProbe, measuresLatency } from './latency-probe.ts';
import { loadBenchMedia } from './media.ts';
import type { PinDecision } from './pinning.ts';
import { PlayerFactory, waitForPlaylist } from './player-factory.ts';
import { profiledServer, windowProfile } from './profile-summary.ts';
import type { BenchPlayer, PlayerStats } from './players.ts';
import { PublisherGroup } from './publisher-group.ts';
import { judgePublishers, type PublisherWindow } from './publisher-verdicts.ts';
import type { BenchPublisher } from './publisher.ts';
import { judgePlayers, spread, type PlayerVerdicts } from './report.ts';
import { procProbe, type ProcSample } from './sampler.ts';
import type { Scenario } from './scenario-args.ts';
import { spawnServer, type SpawnedServer } from './server.ts';
import { benchLimit, procFigures, WindowMeter } from './window-meter.ts';
import {
  RAMP_STEP_MS,
  SETTLE_MS,
  SAMPLE_MS,
  PUBLISH_LEAD_MS,
  PLAYER_TIMEOUT_MS,
  MIN_WINDOW_MS,
  FIRST_PLAYLIST_WAIT_MS,
  monotonicUs,
  sleep,
} from './timing.ts';

const API_TIMEOUT_MS = 5000;

type GridScenario = Extract<Scenario, { kind: 'grid' | 'publishers' }>;

const t0 = performance.now();
/** Progress on stderr: starting hundreds of publishers takes a while. */
const progress = (msg: string): void => {
  process.stderr.write(`bench: ${((performance.now() - t0) / 1000).toFixed(1)} s ${msg}\n`);
};

/**
 * One spawned server, S publishers under one timer, P players per stream, one window. The
 * server runs on `pin`'s server CPU; the bench was pinned to the others by main.
 */
export async function runGrid(
  args: BenchArgs,
  scenario: GridScenario,
  workDir: string,
  pin: PinDecision,
): Promise<{ report: GridReport; text: string }> {
  const media = loadBenchMedia(workDir, args.bitrateKbps);
  const { profileDir, nodeArgs } = profiledServer(args, workDir);
  const server = await spawnServer(workDir, nodeArgs, {}, pin.plan?.serverCpu ?? null);
  const window = { fromUs: 0, toUs: 0 };
  // A send-time table per publisher (256 KiB each), only when there are players to measure.
  const latency = scenario.playersPerStream > 0 && measuresLatency(args.proto) ? new LatencyProbe() : null;
  const group = new PublisherGroup(media, latency);
  const players: BenchPlayer[] = [];
  const factory = new PlayerFactory(server, PLAYER_TIMEOUT_MS, args.hlsSockets);
  let report: GridReport;
  try {
    report = await measureGrid(
      args,
      scenario,
      server,
      media.fileKbps,
      group,
      players,
      factory,
      latency,
      window,
    );
  } finally {
    for (const p of players) p.stop();
    factory.close();
    group.stop();
    await sleep(200); // let the server see the closes before it is told to stop
    const code = await server.stop();
    if (code !== 0 && code !== null) process.stderr.write(`bench: server exited with code ${code}\n`);
  }
  report.server.warnings = Object.fromEntries(server.warnings);
  report.pinning = pin.why;
  if (profileDir) report.profile = windowProfile(profileDir, window);
  return { report, text: formatGridReport(report) };
}

async function measureGrid(
  args: BenchArgs,
  scenario: GridScenario,
  server: SpawnedServer,
  fileKbps: number,
  group: PublisherGroup,
  players: BenchPlayer[],
  factory: PlayerFactory,
  latency: LatencyProbe | null,
  window: { fromUs: number; toUs: number },
): Promise<GridReport> {
  const notes: string[] = [];
  const probe = procProbe(server.pid);
  const idle = await probe.read();
  const S = scenario.streams;
  const names = Array.from({ length: S }, (_, i) => `g${Date.now().toString(36)}-${i}`);
  progress(`publishing ${S} streams`);
  await group.start(names.map((n) => `${server.rtmp}/${args.app}/${n}`));
  progress(`${S} publishers live`);
  await sleep(PUBLISH_LEAD_MS);
  const isHls = args.proto === Proto.Hls;
  const total = S * scenario.playersPerStream;
  if (isHls && total > 0) {
    await Promise.all(
      names.map((n) => waitForPlaylist(factory.url(Proto.Hls, args.app, n), FIRST_PLAYLIST_WAIT_MS)),
    );
    progress('playlists ready');
  }

  // Ramp: player i watches stream i % S, so every stream gets its first players early, and
  // looks its frames up in that stream's publisher's send times.
  const pubs = group.publishers;
  const streamOf: number[] = [];
  const runStart = performance.now();
  const endAt = runStart + args.durationS * 1000;
  await new Promise<void>((done) => {
    const step = (): void => {
      for (let i = 0; i < args.rampPerStep && players.length < total; i++) {
        const s = players.length % S;
        streamOf.push(s);
        players.push(factory.start(args.proto, args.app, names[s]!, pubs[s]!.latency));
      }
      if (players.length < total) return;
      clearInterval(timer);
      done();
    };
    const timer = setInterval(step, RAMP_STEP_MS);
    step();
  });
  const rampMs = performance.now() - runStart;
  if (total > 0) progress(`${total} players started in ${Math.round(rampMs)} ms`);
  const windowStart = performance.now() + SETTLE_MS;
  if (endAt - windowStart < MIN_WINDOW_MS)
    throw new Error(
      `--duration ${args.durationS} s leaves no measurement window after a ${Math.round(rampMs)} ms ramp`,
    );
  await sleep(windowStart - performance.now());
  progress('window');
  window.fromUs = monotonicUs();

  const meter = new WindowMeter();
  for (const p of players) p.stats.bytesAtWindowStart = p.bytesIn;
  const hlsClients = players.filter((p): p is HlsBenchClient => p instanceof HlsBenchClient);
  const hlsStart: HlsCounters[] = hlsClients.map((c) => snapshotCounters(c.hls.counters));
  for (const p of pubs) p.resetLateness();
  const pubStart = pubs.map((p) => [p.payloadBytesSent, p.bytesSent] as const);
  const ingestStart = await streamBytesIn(server.api!);
  const maxQueued = pubs.map(() => 0);
  if (latency) latency.active = true;
  const serverSamples: ProcSample[] = [];
  const sample = async (): Promise<void> => {
    if (!isHls) {
      players.forEach((p, i) => trackLag(p.stats, pubs[streamOf[i]!]!.currentTimestampMs));
    }
    pubs.forEach((p, i) => (maxQueued[i] = Math.max(maxQueued[i]!, p.queuedBytes)));
    serverSamples.push(await probe.read());
  };
  await sample();
  const sampler = setInterval(() => void sample(), SAMPLE_MS);
  await sleep(endAt - performance.now());
  clearInterval(sampler);
  await sample();
  window.toUs = monotonicUs();
  if (latency) latency.active = false;
  for (const p of players) p.stats.bytesAtWindowEnd = p.bytesIn;
  const pubEnd = pubs.map((p) => [p.payloadBytesSent, p.bytesSent] as const);
  const ingestEnd = await streamBytesIn(server.api!);
  const figures = meter.end();
  const { windowS } = figures;
  const hlsWindows = hlsClients.map((c, i) => windowCounters(c.hls.counters, hlsStart[i]!));
  hlsClients.forEach((c, i) => (c.stats.hlsBehind = hlsBehind(hlsWindows[i]!, c.hls)));
  if (!ingestStart || !ingestEnd) notes.push('GET /api/v1/streams failed: server ingest not compared');

  const windows: PublisherWindow[] = pubs.map((p, i) => {
    const key = `${args.app}/${names[i]}`;
    const a = ingestStart?.get(key);
    const b = ingestEnd?.get(key);
    return {
      payloadBytes: pubEnd[i]![0] - pubStart[i]![0],
      socketBytes: pubEnd[i]![1] - pubStart[i]![1],
      maxQueuedBytes: maxQueued[i]!,
      maxLateMs: p.maxLateMs,
      ingestBytes: a === undefined || b === undefined ? null : b - a,
      closed: closedReason(p),
    };
  });
  const pv = judgePublishers(windows, windowS, fileKbps, {
    ingest: ingestStart !== null && ingestEnd !== null,
  });
  // Each stream's players against that stream's publisher: GOP cuts differ between streams.
  const perStream = names.map((_, s) => {
    const stats = players.filter((_, i) => streamOf[i] === s).map((p) => p.stats);
    const publishedKbps = (windows[s]!.socketBytes * 8) / 1000 / windowS;
    return judgePlayers(stats, windowS, publishedKbps, { bitrate: !isHls, lag: !isHls });
  });
  const v = mergeVerdicts(perStream);

  const sv = procFigures(serverSamples);
  const limit = benchLimit(figures.bench, pv.behind.late);
  if (limit)
    notes.push(
      `the bench set the pace, not the server: ${limit}; run fewer streams, or the bench on another host`,
    );
  const rssIdle = idle.rssBytes;
  const lat = latency?.summary() ?? null;
  return {
    scenario: scenario.kind,
    streams: S,
    playersPerStream: scenario.playersPerStream,
    proto: args.proto,
    durationS: args.durationS,
    rampMs,
    ...figures,
    bitrateKbps: { target: args.bitrateKbps, file: fileKbps },
    server: {
      ...sv,
      rssIdleMb: rssIdle === null ? null : rssIdle / 1024 / 1024,
      cpuPerStreamPct: sv.cpuAvgPct === null ? null : sv.cpuAvgPct / S,
      rssPerStreamMb:
        rssIdle === null || sv.rssMaxMb === null ? null : (sv.rssMaxMb - rssIdle / 1024 / 1024) / S,
      warnings: {},
    },
    publishers: pv,
    players:
      total === 0
        ? null
        : {
            players: total,
            kbps: spread(v.kbps),
            connectMs: spread(v.connectMs),
            firstKeyFrameMs: spread(v.firstKeyFrameMs),
            lagMs: spread(v.lagMs),
            latencyMs: lat?.ms ?? null,
            latencyFrames: lat ? { measured: lat.frames, unmatched: lat.unmatched } : null,
            fellBehind: v.fellBehind,
            connectFailures: v.connectFailures,
            failureCodes: v.failureCodes,
            ...(isHls && {
              hls: summarizeHls(
                hlsClients.map((c) => c.hls),
                hlsWindows,
                args.hlsSockets,
              ),
            }),
          },
    benchLimited: limit !== null,
    notes,
  };
}

/** The player's max lag behind its stream's publisher, as a fan-out run keeps it (fanout.ts). */
function trackLag(s: PlayerStats, pubTs: number): void {
  if (s.connectMs < 0 || s.failure !== null || s.endedEarly !== null) return;
  const lag = lagAt(s, pubTs);
  if (lag > s.maxLagMs) s.maxLagMs = lag;
}

function closedReason(p: BenchPublisher): string | null {
  const c = p.closed;
  return c === undefined ? null : (c?.message ?? 'closed');
}

/** Per-stream verdicts as one. */
function mergeVerdicts(all: PlayerVerdicts[]): PlayerVerdicts {
  const out = judgePlayers([], 1, 0);
  for (const v of all) {
    out.kbps.push(...v.kbps);
    out.lagMs.push(...v.lagMs);
    out.connectMs.push(...v.connectMs);
    out.firstKeyFrameMs.push(...v.firstKeyFrameMs);
    for (const k of Object.keys(out.fellBehind) as (keyof typeof out.fellBehind)[])
      out.fellBehind[k] += v.fellBehind[k];
    out.connectFailures += v.connectFailures;
    for (const [code, n] of Object.entries(v.failureCodes))
      out.failureCodes[code] = (out.failureCodes[code] ?? 0) + n;
  }
  return out;
}

/** bytesIn per stream key from GET /api/v1/streams, or null when the API did not answer. */
async function streamBytesIn(api: string): Promise<Map<string, number> | null> {
  try {
    const r = await fetch(`${api}/api/v1/streams`, { signal: AbortSignal.timeout(API_TIMEOUT_MS) });
    const j = (await r.json()) as { streams?: { key: string; bytesIn: number }[] };
    return new Map((j.streams ?? []).map((s) => [s.key, s.bytesIn]));
  } catch {
    return null;
  }
}
