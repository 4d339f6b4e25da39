// One fan-out run of `npm run bench`: one publisher, N players, the server's CPU and RSS. See README.md.
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Proto, type BenchArgs } from './args.ts';
import { loadBenchMedia, type BenchMedia } from './media.ts';
import { HlsBenchClient, type HlsCounters } from './hls-client.ts';
import { hlsBehind, snapshotCounters, summarizeHls, windowCounters } from './hls-report.ts';
import { LatencyProbe, measuresLatency } from './latency-probe.ts';
import { PlayerFactory, waitForPlaylist } from './player-factory.ts';
import type { BenchPlayer, PlayerStats } from './players.ts';
import { profiledServer, windowProfile } from './profile-summary.ts';
import { BenchPublisher } from './publisher.ts';
import { benchLimitNote, judgePlayers, rssPerPlayerBytes, spread, type BenchReport } from './report.ts';
import {
  apiProbe,
  cpuPercents,
  hostCpuTicks,
  LOOP_RESOLUTION_MS,
  loopDelayMs,
  procProbe,
  type ProcSample,
  type ServerProbe,
} from './sampler.ts';
import { spawnServer, type ServerEndpoints, type SpawnedServer } from './server.ts';
import { RtspBenchPlayer } from './rtsp-player.ts';
import { TsBenchPlayer, WsTsBenchPlayer } from './ts-players.ts';
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

/** The measurement window on the monotonic clock (µs); fromUs is 0 until it starts. */
export interface Window {
  fromUs: number;
  toUs: number;
}

/** Where a run's server comes from: spawned for the run (Sluice or a peer), or args.target. */
export interface RunServer {
  /** Sluice, or the peer's name: for progress lines and errors. */
  name: string;
  spawn(): Promise<SpawnedServer>;
  /** Where `--profile` makes this server leave its .cpuprofile; null = not profiled. */
  profileDir: string | null;
}

/** A fresh Sluice for a run: `extraConfig` as in spawnServer, `--profile` applied. */
export function sluiceServer(
  args: BenchArgs,
  workDir: string,
  pinCpu: number | null,
  extraConfig: Record<string, unknown> = {},
): RunServer {
  const { profileDir, nodeArgs } = profiledServer(args, workDir);
  return {
    name: 'sluice',
    spawn: () => spawnServer(workDir, nodeArgs, extraConfig, pinCpu),
    profileDir,
  };
}

/** One fan-out run: publish, ramp `args.players` players, measure; the server stopped after. */
export async function runFanout(
  args: BenchArgs,
  workDir: string,
  server: RunServer | null,
): Promise<BenchReport> {
  const media = loadBenchMedia(workDir, args.bitrateKbps);
  const spawned = server ? await server.spawn() : null;
  const ep: ServerEndpoints = spawned ?? args.target!;
  const probe: ServerProbe | null = spawned ? procProbe(spawned.pid) : ep.api ? apiProbe(ep.api) : null;
  const window: Window = { fromUs: 0, toUs: 0 };
  let report: BenchReport;
  try {
    report = await measureOn(args, media, ep, ep, probe, window);
  } finally {
    if (spawned) {
      await sleep(200); // let the server see the closes before it is told to stop
      const code = await spawned.stop();
      if (code !== 0 && code !== null)
        process.stderr.write(`bench: ${server!.name} exited with code ${code}\n`);
    }
  }
  if (spawned) report.server.warnings = Object.fromEntries(spawned.warnings);
  if (server?.profileDir) report.profile = windowProfile(server.profileDir, window);
  return report;
}

/**
 * The clients of one fan-out run against servers already running: the publisher to
 * `publishTo`, the players on `playTo` (the same server, or an edge relaying it for --relay),
 * `probe` read once before the players, then at the window's edges and every second (`window`
 * is set when the window starts). The clients are closed after.
 */
export async function measureOn(
  args: BenchArgs,
  media: BenchMedia,
  publishTo: ServerEndpoints,
  playTo: ServerEndpoints,
  probe: ServerProbe | null,
  window: Window = { fromUs: 0, toUs: 0 },
): Promise<BenchReport> {
  const latency = new LatencyProbe();
  const publisher = new BenchPublisher(media, latency.stream());
  const players: BenchPlayer[] = [];
  const factory = new PlayerFactory(playTo, PLAYER_TIMEOUT_MS, args.hlsSockets);
  try {
    return await measure(
      args,
      publishTo,
      probe,
      media.fileKbps,
      publisher,
      players,
      factory,
      window,
      latency,
    );
  } finally {
    for (const p of players) p.stop();
    factory.close();
    publisher.stop();
  }
}

/** Publish to `ep`, ramp the players of `factory`, then measure over the window. */
async function measure(
  args: BenchArgs,
  ep: ServerEndpoints,
  probe: ServerProbe | null,
  fileKbps: number,
  publisher: BenchPublisher,
  players: BenchPlayer[],
  factory: PlayerFactory,
  window: Window,
  latency: LatencyProbe,
): Promise<BenchReport> {
  const notes: string[] = [];
  if (!probe) notes.push('no --api given: server CPU and RSS not measured');
  const name = `s${Date.now().toString(36)}`;
  try {
    await publisher.start(`${ep.rtmp}/${args.app}/${name}`);
  } catch (e) {
    throw new Error(`publish failed: ${(e as Error).message}`, { cause: e });
  }
  await sleep(PUBLISH_LEAD_MS);
  const isHls = args.proto === Proto.Hls;
  // HLS players come to a stream that has a playlist (its first segment takes a target duration).
  if (isHls) await waitForPlaylist(factory.url(Proto.Hls, args.app, name), FIRST_PLAYLIST_WAIT_MS);
  // The server with its publisher and no players: the base of the per-player memory figure.
  const rssBefore = probe ? (await probe.read()).rssBytes : null;

  // Ramp: a batch per step, one interval for all.
  // Players look their frames up in their publisher's send times.
  const startPlayer = (): BenchPlayer => factory.start(args.proto, args.app, name, publisher.latency);
  const runStart = performance.now();
  const endAt = runStart + args.durationS * 1000;
  await new Promise<void>((done) => {
    const step = (): void => {
      for (let i = 0; i < args.rampPerStep && players.length < args.players; i++) players.push(startPlayer());
      if (players.length < args.players) return;
      clearInterval(timer);
      done();
    };
    const timer = setInterval(step, RAMP_STEP_MS);
    step();
  });
  const rampMs = performance.now() - runStart;
  const windowStart = performance.now() + SETTLE_MS;
  if (endAt - windowStart < MIN_WINDOW_MS)
    throw new Error(
      `--duration ${args.durationS} s leaves no measurement window after a ${Math.round(rampMs)} ms ramp`,
    );
  await sleep(windowStart - performance.now());

  // Window: bytes at both ends; lag, server CPU and RSS every second.
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  const cpuStart = process.cpuUsage();
  const hostStart = hostCpuTicks();
  const wallStart = performance.now();
  for (const p of players) p.stats.bytesAtWindowStart = p.bytesIn;
  const hlsClients = players.filter((p): p is HlsBenchClient => p instanceof HlsBenchClient);
  const hlsStart: HlsCounters[] = hlsClients.map((c) => snapshotCounters(c.hls.counters));
  const tsPlayers = players.filter(
    (p): p is TsBenchPlayer | WsTsBenchPlayer => p instanceof TsBenchPlayer || p instanceof WsTsBenchPlayer,
  );
  const tsStart = tsPlayers.map((p) => p.scanner.packets);
  const rtspPlayers = players.filter((p): p is RtspBenchPlayer => p instanceof RtspBenchPlayer);
  const rtspStart = rtspPlayers.map((p) => rtspCounts(p));
  const pubStart = publisher.bytesSent;
  window.fromUs = monotonicUs();
  latency.active = true;
  const serverSamples: ProcSample[] = [];
  let benchRss = 0;
  const sample = async (): Promise<void> => {
    benchRss = Math.max(benchRss, process.memoryUsage.rss());
    const pubTs = publisher.currentTimestampMs;
    for (const p of isHls ? [] : players) {
      const s = p.stats;
      if (s.connectMs < 0 || s.failure !== null || s.endedEarly !== null) continue;
      const lag = lagAt(s, pubTs);
      if (lag > s.maxLagMs) s.maxLagMs = lag;
    }
    if (probe) serverSamples.push(await probe.read());
  };
  await sample();
  const sampler = setInterval(() => void sample(), SAMPLE_MS);
  await sleep(endAt - performance.now());
  clearInterval(sampler);
  await sample();
  latency.active = false;
  window.toUs = monotonicUs();
  for (const p of players) p.stats.bytesAtWindowEnd = p.bytesIn;
  const hlsWindows = hlsClients.map((c, i) => windowCounters(c.hls.counters, hlsStart[i]!));
  hlsClients.forEach((c, i) => (c.stats.hlsBehind = hlsBehind(hlsWindows[i]!, c.hls)));
  const tsPackets = tsPlayers.map((p, i) => p.scanner.packets - tsStart[i]!);
  const rtspWindow = rtspPlayers.map((p, i) => {
    const [packets, lost] = rtspCounts(p);
    return [packets - rtspStart[i]![0], lost - rtspStart[i]![1]] as const;
  });
  const pubBytes = publisher.bytesSent - pubStart;
  const windowS = (performance.now() - wallStart) / 1000;
  loopDelay.disable();
  const cpu = process.cpuUsage(cpuStart);
  const hostEnd = hostCpuTicks();
  // /proc/stat sums every CPU; availableParallelism() would count only the pinned bench's.
  const cores = cpus().length;
  const hostPct =
    hostStart && hostEnd && hostEnd.total > hostStart.total
      ? ((hostEnd.busy - hostStart.busy) / (hostEnd.total - hostStart.total)) * 100 * cores
      : null;
  if (publisher.closed !== undefined)
    notes.push(`publisher connection ended early: ${publisher.closed?.message ?? 'closed'}`);

  const publishedKbps = (pubBytes * 8) / 1000 / windowS;
  const v = judgePlayers(
    players.map((p) => p.stats),
    windowS,
    publishedKbps,
    { bitrate: !isHls, lag: !isHls },
  );
  const cpuPct = cpuPercents(serverSamples);
  const rss = serverSamples.map((s) => s.rssBytes).filter((x): x is number => x !== null);
  const rssMax = rss.length ? Math.max(...rss) : null;
  if (probe && cpuPct.length === 0) notes.push(`server CPU not available from ${probe.source}`);
  const bench = {
    cpuAvgPct: ((cpu.user + cpu.system) / 1000 / (windowS * 1000)) * 100,
    eventLoopDelayP50Ms: loopDelayMs(loopDelay.percentile(50)),
    eventLoopDelayP99Ms: loopDelayMs(loopDelay.percentile(99)),
    eventLoopDelayMaxMs: loopDelayMs(loopDelay.max),
    rssMaxMb: benchRss / 1024 / 1024,
  };
  const limited = benchLimitNote(bench);
  if (limited) notes.push(limited);
  const lat = latency.summary();
  const measured = measuresLatency(args.proto);
  return {
    players: args.players,
    proto: args.proto,
    durationS: args.durationS,
    windowS,
    bitrateKbps: { target: args.bitrateKbps, file: fileKbps, published: publishedKbps },
    server: {
      source: probe?.source ?? 'none',
      cpuAvgPct: cpuPct.length ? cpuPct.reduce((a, b) => a + b, 0) / cpuPct.length : null,
      cpuMaxPct: cpuPct.length ? Math.max(...cpuPct) : null,
      rssMaxMb: rssMax === null ? null : rssMax / 1024 / 1024,
      rssBeforePlayersMb: rssBefore === null ? null : rssBefore / 1024 / 1024,
      rssPerPlayerBytes: rssPerPlayerBytes(rssBefore, rssMax, args.players - v.connectFailures),
      warnings: {},
    },
    host: { cores, cpuAvgPct: hostPct },
    bench,
    latencyMs: measured ? lat.ms : null,
    latencyFrames: measured ? { measured: lat.frames, unmatched: lat.unmatched } : null,
    playerKbps: spread(v.kbps),
    connectMs: spread(v.connectMs),
    firstKeyFrameMs: spread(v.firstKeyFrameMs),
    lagMs: spread(v.lagMs),
    rampMs,
    fellBehind: v.fellBehind,
    connectFailures: v.connectFailures,
    failureCodes: v.failureCodes,
    ...(tsPlayers.length > 0 && {
      ts: {
        packets: tsPackets.reduce((a, b) => a + b, 0),
        ccGapPlayers: v.fellBehind.ccGaps,
        packetsPerSecondMedian: spread(tsPackets.map((n) => n / windowS))?.median ?? null,
      },
    }),
    ...(rtspPlayers.length > 0 && {
      rtsp: {
        packets: rtspWindow.reduce((a, [n]) => a + n, 0),
        seqGapPlayers: v.fellBehind.seqGaps,
        lostPackets: rtspWindow.reduce((a, [, n]) => a + n, 0),
        packetsPerSecondMedian: spread(rtspWindow.map(([n]) => n / windowS))?.median ?? null,
      },
    }),
    ...(isHls && {
      hls: summarizeHls(
        hlsClients.map((c) => c.hls),
        hlsWindows,
        args.hlsSockets,
      ),
    }),
    notes,
  };
}

/**
 * Publisher-minus-player timestamp gap at a sample. RTSP players count media time from their
 * own first packet (the RTP timestamp offset is the server's), so for them it is the growth of
 * that gap over its smallest value, as in `--streams`. Also the lag of --grid's players.
 */
export function lagAt(s: PlayerStats, pubTs: number): number {
  if (s.lastTimestampMs < 0) return s.bestOffsetMs === undefined ? pubTs : 0;
  const offset = pubTs - s.lastTimestampMs;
  if (s.bestOffsetMs === undefined) return offset;
  s.bestOffsetMs = Math.min(s.bestOffsetMs, offset);
  return offset - s.bestOffsetMs;
}

/** RTP packets (both tracks) and packets lost to sequence gaps, so far. */
const rtspCounts = (p: RtspBenchPlayer): [number, number] => {
  const s = p.scanner;
  return [s.packets[0]! + s.packets[2]!, s.lostPackets[0]! + s.lostPackets[2]!];
};
