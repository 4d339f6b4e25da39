// `npm run bench -- --streams N`: what muxing costs per stream. See README.md, "Muxing cost".
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Phase, Proto, PublishProto, type BenchArgs } from './args.ts';
import { FfmpegPublisher } from './ffmpeg-publisher.ts';
import { HlsBenchClient, type HlsCounters } from './hls-client.ts';
import { hlsBehind, snapshotCounters, summarizeHls, windowCounters } from './hls-report.ts';
import { loadBenchMedia } from './media.ts';
import { PlayerFactory, waitForPlaylist } from './player-factory.ts';
import type { BenchPlayer } from './players.ts';
import type { PinDecision } from './pinning.ts';
import { judgePlayers, spread } from './report.ts';
import {
  cpuPercents,
  hostCpuTicks,
  LOOP_RESOLUTION_MS,
  loopDelayMs,
  procProbe,
  type ProcSample,
} from './sampler.ts';
import { spawnServer, type SpawnedServer } from './server.ts';
import { formatStreamsReport, type PhaseReport, type StreamsReport } from './streams-report.ts';
import { TsBenchPlayer } from './ts-players.ts';
import {
  SETTLE_MS,
  SAMPLE_MS,
  PLAYER_TIMEOUT_MS,
  MIN_WINDOW_MS,
  FIRST_PLAYLIST_WAIT_MS,
  sleep,
} from './timing.ts';

/** ffmpeg processes started per 100 ms: each costs a burst of CPU to start. */
const PUBLISHERS_PER_STEP = 5;
const PUBLISH_WAIT_MS = 30_000;

const t0 = performance.now();
/** Progress on stderr: phases take a while and the report comes at the end. */
const progress = (msg: string): void => {
  process.stderr.write(`bench: ${((performance.now() - t0) / 1000).toFixed(1)} s ${msg}\n`);
};

/** Viewers of each stream in a phase. */
const VIEWERS: Record<Phase, Proto[]> = {
  [Phase.Rtmp]: [Proto.Rtmp],
  [Phase.RtmpHls]: [Proto.Rtmp],
  [Phase.TsHls]: [Proto.Ts, Proto.Hls],
  [Phase.Rtsp]: [Proto.Rtsp],
};
/** Phases whose server runs without HLS. */
const NO_HLS: ReadonlySet<Phase> = new Set([Phase.Rtmp, Phase.Rtsp]);

/** Each phase on a fresh server, one after the other (never two servers at once). */
export async function runStreams(
  args: BenchArgs,
  workDir: string,
  pin: PinDecision,
): Promise<{ report: StreamsReport; text: string }> {
  const media = loadBenchMedia(workDir, args.bitrateKbps);
  const phases: PhaseReport[] = [];
  for (const phase of args.phases) {
    progress(`phase ${phase}, ${args.streams} streams`);
    phases.push(
      await runPhase(args, workDir, phase, media.file, media.fileKbps, pin.plan?.serverCpu ?? null),
    );
  }
  const report: StreamsReport = {
    streams: args.streams,
    publishProto: args.publishProto,
    durationS: args.durationS,
    bitrateKbps: { target: args.bitrateKbps, file: media.fileKbps },
    host: { cores: cpus().length },
    pinning: pin.why,
    phases,
  };
  return { report, text: formatStreamsReport(report) };
}

async function runPhase(
  args: BenchArgs,
  workDir: string,
  phase: Phase,
  file: string,
  fileKbps: number,
  pinCpu: number | null,
): Promise<PhaseReport> {
  progress('starting server');
  const server = await spawnServer(
    workDir,
    args.serverNodeArgs,
    NO_HLS.has(phase) ? { hls: { enabled: false } } : {},
    pinCpu,
  );
  const publishers: FfmpegPublisher[] = [];
  const players: BenchPlayer[] = [];
  const factory = new PlayerFactory(server, PLAYER_TIMEOUT_MS, args.hlsSockets);
  try {
    return await measurePhase(args, server, phase, file, fileKbps, publishers, players, factory);
  } finally {
    for (const p of players) p.stop();
    factory.close();
    await Promise.all(publishers.map((p) => p.stop()));
    progress('publishers stopped');
    await sleep(200);
    const code = await server.stop();
    progress('server stopped');
    if (code !== 0 && code !== null) process.stderr.write(`bench: server exited with code ${code}\n`);
  }
}

async function measurePhase(
  args: BenchArgs,
  server: SpawnedServer,
  phase: Phase,
  file: string,
  fileKbps: number,
  publishers: FfmpegPublisher[],
  players: BenchPlayer[],
  factory: PlayerFactory,
): Promise<PhaseReport> {
  const notes: string[] = [];
  const probe = procProbe(server.pid);
  const idle = await probe.read();
  const publishBase = args.publishProto === PublishProto.Rtsp ? server.rtsp : server.rtmp;
  const names = Array.from({ length: args.streams }, (_, i) => `m${Date.now().toString(36)}-${i}`);
  for (let i = 0; i < names.length; i += PUBLISHERS_PER_STEP) {
    for (const name of names.slice(i, i + PUBLISHERS_PER_STEP))
      publishers.push(new FfmpegPublisher(file, `${publishBase}/${args.app}/${name}`));
    await sleep(100);
  }
  await waitPublishers(server.api!, publishers);
  progress(`${publishers.length} publishers live`);
  if (!NO_HLS.has(phase)) {
    await Promise.all(
      names.map((n) => waitForPlaylist(factory.url(Proto.Hls, args.app, n), FIRST_PLAYLIST_WAIT_MS)),
    );
    progress('playlists ready');
  }

  const runStart = performance.now();
  const endAt = runStart + args.durationS * 1000;
  for (const name of names)
    for (const proto of VIEWERS[phase]) players.push(factory.start(proto, args.app, name));
  const windowStart = performance.now() + SETTLE_MS;
  if (endAt - windowStart < MIN_WINDOW_MS)
    throw new Error(`--duration ${args.durationS} s leaves no measurement window`);
  await sleep(windowStart - performance.now());
  progress('window');

  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  const cpuStart = process.cpuUsage();
  const hostStart = hostCpuTicks();
  const wallStart = performance.now();
  for (const p of players) p.stats.bytesAtWindowStart = p.bytesIn;
  const hlsClients = players.filter((p): p is HlsBenchClient => p instanceof HlsBenchClient);
  const hlsStart: HlsCounters[] = hlsClients.map((c) => snapshotCounters(c.hls.counters));
  const streamed = players.filter((p) => !(p instanceof HlsBenchClient));
  // ffmpeg's stream clock is not visible: lag is measured from each player's best moment.
  const minOffset = new Map<BenchPlayer, number>();
  const serverSamples: ProcSample[] = [];
  const pubSamples: ProcSample[][] = publishers.map(() => []);
  const sample = async (): Promise<void> => {
    const now = performance.now();
    for (const p of streamed) {
      const s = p.stats;
      if (s.lastTimestampMs < 0 || s.failure !== null || s.endedEarly !== null) continue;
      const offset = now - s.lastTimestampMs;
      const best = Math.min(minOffset.get(p) ?? offset, offset);
      minOffset.set(p, best);
      if (offset - best > s.maxLagMs) s.maxLagMs = offset - best;
    }
    serverSamples.push(await probe.read());
    const reads = await Promise.all(publishers.map((p) => p.probe.read()));
    reads.forEach((r, i) => pubSamples[i]!.push(r));
  };
  await sample();
  const sampler = setInterval(() => void sample(), SAMPLE_MS);
  await sleep(endAt - performance.now());
  clearInterval(sampler);
  await sample();
  for (const p of players) p.stats.bytesAtWindowEnd = p.bytesIn;
  const windowS = (performance.now() - wallStart) / 1000;
  loopDelay.disable();
  const cpu = process.cpuUsage(cpuStart);
  const hostEnd = hostCpuTicks();
  const hlsWindows = hlsClients.map((c, i) => windowCounters(c.hls.counters, hlsStart[i]!));
  hlsClients.forEach((c, i) => (c.stats.hlsBehind = hlsBehind(hlsWindows[i]!, c.hls)));

  const early = publishers.map((p) => p.endedEarly).filter((x): x is string => x !== null);
  if (early.length > 0) notes.push(`${early.length} publishers ended early, e.g. ${early[0]}`);
  const cpuPct = cpuPercents(serverSamples);
  const cpuAvg = cpuPct.length ? cpuPct.reduce((a, b) => a + b, 0) / cpuPct.length : null;
  const rss = serverSamples.map((s) => s.rssBytes).filter((x): x is number => x !== null);
  const rssMax = rss.length ? Math.max(...rss) : null;
  const pubCpu = pubSamples.map((s) => {
    const pct = cpuPercents(s);
    return pct.length ? pct.reduce((a, b) => a + b, 0) / pct.length : 0;
  });
  // /proc/stat sums every CPU; availableParallelism() would count only the pinned bench's.
  const cores = cpus().length;
  const hostPct =
    hostStart && hostEnd && hostEnd.total > hostStart.total
      ? ((hostEnd.busy - hostStart.busy) / (hostEnd.total - hostStart.total)) * 100 * cores
      : null;
  // TS and RTMP bytes carry the file's payload plus their framing: at least the file's bitrate.
  const v = judgePlayers(
    streamed.map((p) => p.stats),
    windowS,
    fileKbps,
  );
  const hv = judgePlayers(
    hlsClients.map((p) => p.stats),
    windowS,
    fileKbps,
    { bitrate: false, lag: false },
  );
  const viewers: Record<string, number> = {};
  for (const proto of VIEWERS[phase]) viewers[proto] = args.streams;
  const tsPlayers = players.filter((p): p is TsBenchPlayer => p instanceof TsBenchPlayer);
  return {
    phase,
    streams: args.streams,
    viewers,
    windowS,
    server: {
      cpuAvgPct: cpuAvg,
      cpuMaxPct: cpuPct.length ? Math.max(...cpuPct) : null,
      cpuPerStreamPct: cpuAvg === null ? null : cpuAvg / args.streams,
      rssIdleMb: idle.rssBytes === null ? null : idle.rssBytes / 1024 / 1024,
      rssMaxMb: rssMax === null ? null : rssMax / 1024 / 1024,
      rssPerStreamMb:
        rssMax === null || idle.rssBytes === null
          ? null
          : (rssMax - idle.rssBytes) / 1024 / 1024 / args.streams,
      warnings: Object.fromEntries(server.warnings),
    },
    publishers: { cpuAvgPct: pubCpu.reduce((a, b) => a + b, 0), endedEarly: early.length },
    host: { cpuAvgPct: hostPct },
    bench: {
      cpuAvgPct: ((cpu.user + cpu.system) / 1000 / (windowS * 1000)) * 100,
      eventLoopDelayP99Ms: loopDelayMs(loopDelay.percentile(99)),
    },
    streamed: {
      players: streamed.length,
      fellBehind: v.fellBehind,
      connectFailures: v.connectFailures,
      failureCodes: v.failureCodes,
      firstKeyFrameMs: spread(v.firstKeyFrameMs),
      lagGrowthMs: spread(v.lagMs),
      kbps: spread(v.kbps),
      tsCcGapPlayers: tsPlayers.filter((p) => p.scanner.ccGaps > 0).length,
      rtspSeqGapPlayers: v.fellBehind.seqGaps,
    },
    ...(hlsClients.length > 0 && {
      hls: {
        summary: summarizeHls(
          hlsClients.map((c) => c.hls),
          hlsWindows,
          args.hlsSockets,
        ),
        fellBehind: hv.fellBehind.total,
        connectFailures: hv.connectFailures,
        firstSegmentMs: spread(hv.firstKeyFrameMs),
      },
    }),
    notes,
  };
}

/** Until the server counts every publisher (GET /api/v1/stats sessions.publisher), or one died. */
async function waitPublishers(api: string, publishers: FfmpegPublisher[]): Promise<void> {
  const until = performance.now() + PUBLISH_WAIT_MS;
  let live = 0;
  while (performance.now() < until) {
    const dead = publishers.find((p) => p.endedEarly !== null);
    if (dead) throw new Error(`a publisher failed: ${dead.endedEarly}`);
    try {
      const r = await fetch(`${api}/api/v1/stats`, { signal: AbortSignal.timeout(2000) });
      const j = (await r.json()) as { sessions?: { publisher?: number } };
      live = j.sessions?.publisher ?? 0;
      if (live >= publishers.length) return;
    } catch {
      // busy server: ask again
    }
    await sleep(200);
  }
  throw new Error(`only ${live} of ${publishers.length} publishers live after ${PUBLISH_WAIT_MS} ms`);
}
