import type { Proto } from './args.ts';
import { formatHlsRows, type HlsSummary } from './hls-report.ts';
import {
  BEHIND_INGEST_RATIO,
  BEHIND_LATE_MS,
  BEHIND_QUEUE_S,
  type PublisherVerdicts,
} from './publisher-verdicts.ts';
import { BEHIND_LAG_MS, type FellBehind, type Spread } from './report.ts';
import type { ScenarioKind } from './scenario-args.ts';
import type { ProcFigures, WindowFigures } from './window-meter.ts';

/** `--grid SxP` and `--publishers N`: many streams on one spawned server. */
export interface GridReport extends WindowFigures {
  scenario: typeof ScenarioKind.Grid | typeof ScenarioKind.Publishers;
  streams: number;
  playersPerStream: number;
  proto: Proto;
  durationS: number;
  /** From the first player to the last one started (0 without players). */
  rampMs: number;
  bitrateKbps: { target: number; file: number };
  server: ProcFigures & {
    /** Before the first publisher. */
    rssIdleMb: number | null;
    cpuPerStreamPct: number | null;
    /** (max - idle) / streams. */
    rssPerStreamMb: number | null;
    warnings: Record<string, number>;
  };
  /** Per-stream published kbps (socket bytes), server ingest ratios and who fell behind. */
  publishers: PublisherVerdicts;
  players: {
    players: number;
    kbps: Spread | null;
    connectMs: Spread | null;
    firstKeyFrameMs: Spread | null;
    /** Per player, the largest lag behind its own stream's publisher at a sample. */
    lagMs: Spread | null;
    /** Every frame of every player, against its own stream's publisher (as BenchReport.latencyMs). */
    latencyMs: Spread | null;
    /** Frames measured and frames without a send time; null for RTSP and HLS. */
    latencyFrames: { measured: number; unmatched: number } | null;
    fellBehind: FellBehind;
    connectFailures: number;
    failureCodes: Record<string, number>;
    hls?: HlsSummary;
  } | null;
  /** Which CPUs the server and the bench ran on (--pin), or why they were not pinned. */
  pinning?: string;
  /** The bench, not the server, set the pace (late tags, a stalled event loop, a busy core). */
  benchLimited: boolean;
  notes: string[];
  /** With --profile: where the server's CPU time went in the window (profile-summary.ts). */
  profile?: string;
}

const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined ? 'n/a' : n.toFixed(digits);
const fmtSpread = (s: Spread | null, keys: (keyof Spread)[], digits = 0): string =>
  s ? keys.map((k) => fmt(s[k], digits)).join(' / ') : 'n/a';

export function formatGridReport(r: GridReport): string {
  const p = r.publishers;
  const b = p.behind;
  const rows: [string, string][] = [
    [
      r.scenario === 'grid' ? 'grid' : 'publishers',
      `${r.streams} streams x ${r.playersPerStream} ${r.proto} players, ${r.streams} in-process RTMP publishers`,
    ],
    ['duration / window s', `${r.durationS} / ${fmt(r.windowS, 1)}`],
    ...(r.pinning === undefined ? [] : [['pinning', r.pinning] as [string, string]]),
    ['stream kbps target / file', `${r.bitrateKbps.target} / ${r.bitrateKbps.file}`],
    ['server CPU % avg / max (1 core = 100)', `${fmt(r.server.cpuAvgPct)} / ${fmt(r.server.cpuMaxPct)}`],
    ['server CPU % per stream', fmt(r.server.cpuPerStreamPct, 2)],
    [
      'server RSS idle / max MB; per stream',
      `${fmt(r.server.rssIdleMb)} / ${fmt(r.server.rssMaxMb)}; ${fmt(r.server.rssPerStreamMb, 2)}`,
    ],
    ['published kbps per stream min / median / max', fmtSpread(p.kbps, ['min', 'median', 'max'])],
    [
      'publishers behind',
      `${b.total} of ${p.publishers} (queue>${BEHIND_QUEUE_S}s ${b.queued}, late>${BEHIND_LATE_MS}ms ${b.late}, ingest<${BEHIND_INGEST_RATIO * 100}% ${b.ingest}, closed ${b.closed})`,
    ],
    ['  server ingest / sent min / median', fmtSpread(p.ingestRatio, ['min', 'median'], 3)],
    ['  max queued ms of bitrate median / max', fmtSpread(p.maxQueuedMs, ['median', 'max'])],
    ['  max tag lateness ms median / max', fmtSpread(p.maxLateMs, ['median', 'max'])],
  ];
  const pl = r.players;
  if (pl) {
    const fb = pl.fellBehind;
    const reasons = pl.hls
      ? `segments late/skipped/slow or errors ${fb.hls}, ended early ${fb.endedEarly}, no segment ${fb.noKeyFrame}`
      : `low bitrate ${fb.lowBitrate}, lag>${BEHIND_LAG_MS / 1000}s ${fb.lagging}, ended early ${fb.endedEarly}, no key frame ${fb.noKeyFrame}, CC gaps ${fb.ccGaps}, seq gaps ${fb.seqGaps}`;
    rows.push(
      ['players fell behind', `${fb.total} of ${pl.players} (${reasons})`],
      ['player kbps min / median', fmtSpread(pl.kbps, ['min', 'median'])],
      ['max lag ms median / p95 / max', fmtSpread(pl.lagMs, ['median', 'p95', 'max'])],
      ['added latency ms p50 / p95 / p99 / max', latencyText(r.proto, pl, r.bench)],
      [
        pl.hls ? 'first segment ms median / p95 / p99 / max' : 'first key frame ms median / p95 / p99 / max',
        fmtSpread(pl.firstKeyFrameMs, ['median', 'p95', 'p99', 'max']),
      ],
      ['connect ms median / p95 / max', fmtSpread(pl.connectMs, ['median', 'p95', 'max'])],
      ['connect failures', `${pl.connectFailures}${failureList(pl.failureCodes)}`],
      ['ramp ms (all players started)', fmt(r.rampMs)],
    );
    if (pl.hls) rows.push(...formatHlsRows(pl.hls));
  }
  rows.push(
    ['host CPU % avg (all processes)', `${fmt(r.host.cpuAvgPct)} of ${r.host.cores * 100}`],
    [
      'bench CPU % avg; loop delay p50 / p99 / max ms',
      `${fmt(r.bench.cpuAvgPct)}; ${fmt(r.bench.eventLoopDelayP50Ms, 1)} / ${fmt(r.bench.eventLoopDelayP99Ms, 1)} / ${fmt(r.bench.eventLoopDelayMaxMs, 1)}`,
    ],
    ['bench was the limit', r.benchLimited ? 'YES: see notes' : 'no'],
  );
  const warnings = Object.entries(r.server.warnings);
  if (warnings.length > 0)
    rows.push(['server log (warn+)', warnings.map(([m, n]) => `${n}x ${m}`).join('; ')]);
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = [...rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`), ...r.notes.map((n) => `note: ${n}`)];
  if (r.profile) lines.push('', r.profile);
  return lines.join('\n');
}

function latencyText(proto: Proto, pl: NonNullable<GridReport['players']>, b: GridReport['bench']): string {
  const f = pl.latencyFrames;
  if (f === null) return `not measured for ${proto}`;
  const unmatched = f.unmatched > 0 ? `, ${f.unmatched} without a send time` : '';
  const loop = `bench loop delay p50 ${fmt(b.eventLoopDelayP50Ms, 1)} / p99 ${fmt(b.eventLoopDelayP99Ms, 1)}`;
  return `${fmtSpread(pl.latencyMs, ['median', 'p95', 'p99', 'max'], 1)} (${f.measured} frames${unmatched}; ${loop})`;
}

function failureList(codes: Record<string, number>): string {
  const e = Object.entries(codes);
  return e.length === 0 ? '' : ` (${e.map(([c, n]) => `${c}: ${n}`).join(', ')})`;
}
