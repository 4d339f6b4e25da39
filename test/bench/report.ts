import type { Proto } from './args.ts';
import { formatHlsRows, type HlsSummary } from './hls-report.ts';
import type { PlayerStats } from './players.ts';
import { BENCH_CPU_LIMIT_PCT, BENCH_LOOP_LIMIT_MS } from './window-meter.ts';

/** A player is behind below this share of the publisher's bitrate in the window... */
export const BEHIND_BITRATE_RATIO = 0.9;
/** ...or when its newest timestamp trails the publisher's by more than this at a sample. */
export const BEHIND_LAG_MS = 2000;

export interface Spread {
  min: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

export interface BenchReport {
  players: number;
  proto: Proto;
  durationS: number;
  /** Measurement window: from ramp end + 2 s to the end. */
  windowS: number;
  bitrateKbps: { target: number; file: number; published: number };
  server: {
    source: string;
    cpuAvgPct: number | null;
    cpuMaxPct: number | null;
    rssMaxMb: number | null;
    /** Sampled after the publisher's head start, just before the first player. */
    rssBeforePlayersMb: number | null;
    /** (max RSS in the window - RSS before the players) / connected players. */
    rssPerPlayerBytes: number | null;
    warnings: Record<string, number>;
  };
  /** Whole machine, 100 per core: what is left after server and bench is other load. */
  host: { cores: number; cpuAvgPct: number | null };
  bench: {
    cpuAvgPct: number;
    eventLoopDelayP50Ms: number;
    eventLoopDelayP99Ms: number;
    eventLoopDelayMaxMs: number;
    rssMaxMb: number;
  };
  /**
   * Receive minus send time of every frame of every player in the window (publisher and
   * players share this process's clock), bench event-loop delay included; null when none was
   * measured (RTSP and HLS players are not).
   */
  latencyMs: Spread | null;
  /** Frames measured, and frames whose timestamp had no send time; null for RTSP and HLS. */
  latencyFrames: { measured: number; unmatched: number } | null;
  playerKbps: Spread | null;
  connectMs: Spread | null;
  firstKeyFrameMs: Spread | null;
  lagMs: Spread | null;
  /** First player started to last: the ramp as it happened (its timer runs late on a busy bench). */
  rampMs?: number;
  fellBehind: FellBehind;
  connectFailures: number;
  failureCodes: Record<string, number>;
  /** MPEG-TS players: packets received in the window and players with continuity gaps. */
  ts?: { packets: number; ccGapPlayers: number; packetsPerSecondMedian: number | null };
  /** RTSP players: RTP packets in the window, players with sequence gaps and the packets those skipped. */
  rtsp?: {
    packets: number;
    seqGapPlayers: number;
    lostPackets: number;
    packetsPerSecondMedian: number | null;
  };
  hls?: HlsSummary;
  /** Which CPUs the spawned server and the bench ran on (--pin), or why they were not pinned. */
  pinning?: string;
  notes: string[];
  profile?: string;
}

/** Players that did not keep up, by reason (a player may have several); `total` counts each once. */
export interface FellBehind {
  total: number;
  lowBitrate: number;
  lagging: number;
  endedEarly: number;
  noKeyFrame: number;
  /** MPEG-TS: continuity counters skipped, i.e. the server dropped data for the player. */
  ccGaps: number;
  /** RTSP: RTP sequence numbers skipped (the server dropped packets for the player). */
  seqGaps: number;
  /** HLS: late, skipped or slow segments in the window, or failed requests (PlayerStats.hlsBehind). */
  hls: number;
}

/** Which verdicts apply: HLS clients have neither a continuous bitrate nor a media timestamp. */
export interface JudgeChecks {
  bitrate: boolean;
  lag: boolean;
}

/** Nearest-rank percentiles of an unsorted list; null when empty. */
export function spread(values: number[]): Spread | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { min: s[0]!, median: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1]! };
}

export interface PlayerVerdicts {
  kbps: number[];
  lagMs: number[];
  connectMs: number[];
  firstKeyFrameMs: number[];
  fellBehind: FellBehind;
  connectFailures: number;
  failureCodes: Record<string, number>;
}

/** Per-player figures over the window and the "fell behind" verdicts. */
export function judgePlayers(
  stats: PlayerStats[],
  windowS: number,
  publishedKbps: number,
  checks: JudgeChecks = { bitrate: true, lag: true },
): PlayerVerdicts {
  const v: PlayerVerdicts = {
    kbps: [],
    lagMs: [],
    connectMs: [],
    firstKeyFrameMs: [],
    fellBehind: {
      total: 0,
      lowBitrate: 0,
      lagging: 0,
      endedEarly: 0,
      noKeyFrame: 0,
      ccGaps: 0,
      seqGaps: 0,
      hls: 0,
    },
    connectFailures: 0,
    failureCodes: {},
  };
  for (const p of stats) {
    if (p.failure !== null || p.connectMs < 0) {
      v.connectFailures++;
      const code = p.failure ?? 'not connected by the end';
      v.failureCodes[code] = (v.failureCodes[code] ?? 0) + 1;
      continue;
    }
    const kbps = ((p.bytesAtWindowEnd - p.bytesAtWindowStart) * 8) / 1000 / windowS;
    v.kbps.push(kbps);
    if (checks.lag) v.lagMs.push(p.maxLagMs);
    v.connectMs.push(p.connectMs);
    if (p.firstKeyFrameMs >= 0) v.firstKeyFrameMs.push(p.firstKeyFrameMs);
    const low = checks.bitrate && kbps < BEHIND_BITRATE_RATIO * publishedKbps;
    const lagging = checks.lag && p.maxLagMs > BEHIND_LAG_MS;
    const early = p.endedEarly !== null;
    const noKey = p.firstKeyFrameMs < 0;
    const gaps = (p.ccGaps ?? 0) > 0;
    const seqGaps = (p.seqGaps ?? 0) > 0;
    const hls = p.hlsBehind === true;
    if (low) v.fellBehind.lowBitrate++;
    if (lagging) v.fellBehind.lagging++;
    if (early) v.fellBehind.endedEarly++;
    if (noKey) v.fellBehind.noKeyFrame++;
    if (gaps) v.fellBehind.ccGaps++;
    if (seqGaps) v.fellBehind.seqGaps++;
    if (hls) v.fellBehind.hls++;
    if (low || lagging || early || noKey || gaps || seqGaps || hls) v.fellBehind.total++;
  }
  return v;
}

/** Server memory per player: what the window's peak added to the RSS before the players. */
export function rssPerPlayerBytes(
  before: number | null,
  maxInWindow: number | null,
  players: number,
): number | null {
  if (before === null || maxInWindow === null || players <= 0) return null;
  return (maxInWindow - before) / players;
}

/**
 * A note when the bench itself was saturated: its one thread near a full core, or its event
 * loop late by this much, means lag, latency and "fell behind" describe the load client.
 */
export function benchLimitNote(b: BenchReport['bench']): string | null {
  if (b.cpuAvgPct <= BENCH_CPU_LIMIT_PCT && b.eventLoopDelayP99Ms <= BENCH_LOOP_LIMIT_MS) return null;
  return (
    `the bench, not the server, was the limit (bench CPU ${b.cpuAvgPct.toFixed(0)} %, loop delay p99 ` +
    `${b.eventLoopDelayP99Ms.toFixed(0)} ms): lag, latency and "fell behind" describe the load client; ` +
    'use fewer players per bench process or run the bench on another host'
  );
}

const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined ? 'n/a' : n.toFixed(digits);
const fmtSpread = (s: Spread | null, keys: (keyof Spread)[], digits = 0): string =>
  s ? keys.map((k) => `${fmt(s[k], digits)}`).join(' / ') : 'n/a';

/** The human table: one figure per line, label left, value right. */
export function formatReport(r: BenchReport): string {
  const rows: [string, string][] = [
    ['players', `${r.players} (${r.proto})`],
    ['duration / window s', `${r.durationS} / ${fmt(r.windowS, 1)}`],
    ...(r.pinning === undefined ? [] : [['pinning', r.pinning] as [string, string]]),
    [
      'stream kbps target / file / published',
      `${r.bitrateKbps.target} / ${r.bitrateKbps.file} / ${fmt(r.bitrateKbps.published)}`,
    ],
    ['server CPU % avg / max (1 core = 100)', `${fmt(r.server.cpuAvgPct)} / ${fmt(r.server.cpuMaxPct)}`],
    [
      'server RSS MB before players / max; per player',
      `${fmt(r.server.rssBeforePlayersMb)} / ${fmt(r.server.rssMaxMb)}; ${perPlayerText(r.server.rssPerPlayerBytes)}`,
    ],
    ['player kbps min / median', fmtSpread(r.playerKbps, ['min', 'median'])],
    ['players fell behind', fellBehindText(r)],
    [
      r.rtsp ? 'max lag growth ms median / p95 / max' : 'max lag ms median / p95 / max',
      fmtSpread(r.lagMs, ['median', 'p95', 'max']),
    ],
    [
      r.hls ? 'first segment ms median / p95 / p99 / max' : 'first key frame ms median / p95 / p99 / max',
      fmtSpread(r.firstKeyFrameMs, ['median', 'p95', 'p99', 'max']),
    ],
    ['added latency ms p50 / p95 / p99 / max', latencyText(r)],
    ['connect ms median / p95 / max', fmtSpread(r.connectMs, ['median', 'p95', 'max'])],
    ['connect failures', `${r.connectFailures}${failureList(r.failureCodes)}`],
    ['ramp ms (all players started)', fmt(r.rampMs)],
    ['host CPU % avg (all processes)', `${fmt(r.host.cpuAvgPct)} of ${r.host.cores * 100}`],
    [
      'bench CPU % avg; loop delay p50 / p99 / max ms; RSS max MB',
      `${fmt(r.bench.cpuAvgPct)}; ${fmt(r.bench.eventLoopDelayP50Ms, 1)} / ${fmt(r.bench.eventLoopDelayP99Ms, 1)} / ` +
        `${fmt(r.bench.eventLoopDelayMaxMs, 1)}; ${fmt(r.bench.rssMaxMb)}`,
    ],
  ];
  if (r.ts) {
    rows.push([
      'TS packets in window; per player/s median; players with CC gaps',
      `${r.ts.packets}; ${fmt(r.ts.packetsPerSecondMedian)}; ${r.ts.ccGapPlayers}`,
    ]);
  }
  if (r.rtsp) {
    rows.push([
      'RTP packets; per player/s median; players with seq gaps (lost)',
      `${r.rtsp.packets}; ${fmt(r.rtsp.packetsPerSecondMedian)}; ${r.rtsp.seqGapPlayers} (${r.rtsp.lostPackets})`,
    ]);
  }
  if (r.hls) rows.push(...formatHlsRows(r.hls));
  const warnings = Object.entries(r.server.warnings);
  if (warnings.length > 0)
    rows.push(['server log (warn+)', warnings.map(([m, n]) => `${n}x ${m}`).join('; ')]);
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, val]) => `${k.padEnd(w)}  ${val}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  if (r.profile) lines.push('', r.profile);
  return lines.join('\n');
}

function latencyText(r: BenchReport): string {
  const f = r.latencyFrames;
  if (f === null) return `not measured for ${r.proto}`;
  const unmatched = f.unmatched > 0 ? `, ${f.unmatched} without a send time` : '';
  const loop = `bench loop delay p50 ${fmt(r.bench.eventLoopDelayP50Ms, 1)} / p99 ${fmt(r.bench.eventLoopDelayP99Ms, 1)}`;
  return `${fmtSpread(r.latencyMs, ['median', 'p95', 'p99', 'max'], 1)} (${f.measured} frames${unmatched}; ${loop})`;
}

const perPlayerText = (bytes: number | null): string =>
  bytes === null ? 'n/a' : `${(bytes / 1024).toFixed(1)} KiB`;

function fellBehindText(r: BenchReport): string {
  const fb = r.fellBehind;
  if (r.hls)
    return `${fb.total} (segments late/skipped/slow or errors ${fb.hls}, ended early ${fb.endedEarly}, no segment ${fb.noKeyFrame})`;
  const base = `${fb.total} (low bitrate ${fb.lowBitrate}, lag>${BEHIND_LAG_MS / 1000}s ${fb.lagging}, ended early ${fb.endedEarly}, no key frame ${fb.noKeyFrame}`;
  if (r.ts) return `${base}, CC gaps ${fb.ccGaps})`;
  return r.rtsp ? `${base}, seq gaps ${fb.seqGaps})` : `${base})`;
}

function failureList(codes: Record<string, number>): string {
  const e = Object.entries(codes);
  return e.length === 0 ? '' : ` (${e.map(([c, n]) => `${c}: ${n}`).join(', ')})`;
}
