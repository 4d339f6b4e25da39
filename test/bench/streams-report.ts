import type { Phase, PublishProto } from './args.ts';
import type { HlsSummary } from './hls-report.ts';
import type { FellBehind, Spread } from './report.ts';

/** One phase of `--streams`: a fresh server, N ffmpeg publishers, the phase's viewers. */
export interface PhaseReport {
  phase: Phase;
  streams: number;
  /** Viewers per stream, by protocol. */
  viewers: Record<string, number>;
  windowS: number;
  server: {
    cpuAvgPct: number | null;
    cpuMaxPct: number | null;
    cpuPerStreamPct: number | null;
    /** Before the first publisher. */
    rssIdleMb: number | null;
    rssMaxMb: number | null;
    /** (max - idle) / streams. */
    rssPerStreamMb: number | null;
    warnings: Record<string, number>;
  };
  /** All ffmpeg publishers together, 100 = one core. */
  publishers: { cpuAvgPct: number; endedEarly: number };
  host: { cpuAvgPct: number | null };
  bench: { cpuAvgPct: number; eventLoopDelayP99Ms: number };
  /** RTMP and HTTP-TS viewers. */
  streamed: {
    players: number;
    fellBehind: FellBehind;
    connectFailures: number;
    failureCodes: Record<string, number>;
    firstKeyFrameMs: Spread | null;
    /** Growth of each player's stream-time lag over the window (ffmpeg's clock is not visible). */
    lagGrowthMs: Spread | null;
    kbps: Spread | null;
    tsCcGapPlayers: number;
    rtspSeqGapPlayers: number;
  };
  hls?: { summary: HlsSummary; fellBehind: number; connectFailures: number; firstSegmentMs: Spread | null };
  notes: string[];
}

export interface StreamsReport {
  streams: number;
  /** How ffmpeg published: rtmp (-f flv) or rtsp (-f rtsp over TCP). */
  publishProto: PublishProto;
  durationS: number;
  bitrateKbps: { target: number; file: number };
  host: { cores: number };
  /** Which CPUs the servers and the bench (with its ffmpeg publishers) ran on, or why not pinned. */
  pinning: string;
  phases: PhaseReport[];
}

const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined ? 'n/a' : n.toFixed(digits);
const pair = (s: Spread | null, a: keyof Spread, b: keyof Spread): string =>
  s ? `${fmt(s[a])} / ${fmt(s[b])}` : 'n/a';

/** One column per phase; the CPU difference is against the first phase. */
export function formatStreamsReport(r: StreamsReport): string {
  const base = r.phases[0]?.server.cpuPerStreamPct ?? null;
  const rows: [string, (p: PhaseReport) => string][] = [
    ['phase', (p) => p.phase],
    [
      'viewers per stream',
      (p) =>
        Object.keys(p.viewers)
          .map((k) => `1 ${k}`)
          .join(' + '),
    ],
    ['window s', (p) => fmt(p.windowS, 1)],
    [
      'server CPU % avg / max (1 core = 100)',
      (p) => `${fmt(p.server.cpuAvgPct)} / ${fmt(p.server.cpuMaxPct)}`,
    ],
    ['server CPU % per stream', (p) => fmt(p.server.cpuPerStreamPct, 2)],
    [
      `  minus ${r.phases[0]?.phase ?? 'first'} phase`,
      (p) =>
        p.server.cpuPerStreamPct === null || base === null
          ? 'n/a'
          : `${p.server.cpuPerStreamPct - base >= 0 ? '+' : ''}${(p.server.cpuPerStreamPct - base).toFixed(2)}`,
    ],
    ['server RSS idle / max MB', (p) => `${fmt(p.server.rssIdleMb)} / ${fmt(p.server.rssMaxMb)}`],
    ['server RSS per stream MB', (p) => fmt(p.server.rssPerStreamMb, 2)],
    [
      'ffmpeg publishers CPU % (all); ended early',
      (p) => `${fmt(p.publishers.cpuAvgPct)}; ${p.publishers.endedEarly}`,
    ],
    ['host CPU % avg (all processes)', (p) => `${fmt(p.host.cpuAvgPct)} of ${r.host.cores * 100}`],
    [
      'bench CPU %; loop delay p99 ms',
      (p) => `${fmt(p.bench.cpuAvgPct)}; ${fmt(p.bench.eventLoopDelayP99Ms, 1)}`,
    ],
    ['RTMP/TS/RTSP viewers fell behind', (p) => fellText(p)],
    ['  first key frame ms median / p99', (p) => pair(p.streamed.firstKeyFrameMs, 'median', 'p99')],
    ['  lag growth ms p95 / max', (p) => pair(p.streamed.lagGrowthMs, 'p95', 'max')],
    ['  kbps min / median', (p) => pair(p.streamed.kbps, 'min', 'median')],
    ['HLS clients fell behind', (p) => (p.hls ? `${p.hls.fellBehind} of ${p.hls.summary.clients}` : '-')],
    ['  first segment ms median / p99', (p) => (p.hls ? pair(p.hls.firstSegmentMs, 'median', 'p99') : '-')],
    [
      '  segments; late / skipped / slow; errors',
      (p) => {
        if (!p.hls) return '-';
        const w = p.hls.summary.window;
        return `${w.segments}; ${w.late} / ${w.skipped} / ${w.slow}; ${p.hls.summary.errors}`;
      },
    ],
  ];
  const cells = rows.map(([label, f]) => [label, ...r.phases.map(f)]);
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const lines = [
    `${r.streams} streams of ${r.bitrateKbps.target} kbps (file ${r.bitrateKbps.file}), ffmpeg -re -c copy each over ${r.publishProto.toUpperCase()}; ${r.durationS} s per phase`,
    `pinning: ${r.pinning}`,
    ...cells.map((row) =>
      row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
    ),
  ];
  for (const p of r.phases) {
    const warnings = Object.entries(p.server.warnings);
    if (warnings.length > 0)
      lines.push(`server log (warn+), ${p.phase}: ${warnings.map(([m, n]) => `${n}x ${m}`).join('; ')}`);
    for (const n of p.notes) lines.push(`note (${p.phase}): ${n}`);
    const codes = Object.entries(p.streamed.failureCodes);
    if (codes.length > 0)
      lines.push(`connect failures (${p.phase}): ${codes.map(([c, n]) => `${c}: ${n}`).join(', ')}`);
  }
  return lines.join('\n');
}

function fellText(p: PhaseReport): string {
  const fb = p.streamed.fellBehind;
  const parts = [
    ['low bitrate', fb.lowBitrate],
    ['lag', fb.lagging],
    ['ended', fb.endedEarly],
    ['no key', fb.noKeyFrame],
    ['CC gaps', fb.ccGaps],
    ['seq gaps', fb.seqGaps],
    ['connect failed', p.streamed.connectFailures],
  ]
    .filter(([, n]) => (n as number) > 0)
    .map(([k, n]) => `${k} ${n}`);
  return `${fb.total + p.streamed.connectFailures} of ${p.streamed.players}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
