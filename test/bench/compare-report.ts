import { mediaNodeProperties } from '../../services/node/config-schema.ts';
import type { Peer, Proto } from './args.ts';
import type { BenchReport, Spread } from './report.ts';

const DEFAULT_COALESCE_MS = mediaNodeProperties.viewer.properties.writeCoalesceMs.default;

export const SLUICE = 'sluice';
export type ServerName = typeof SLUICE | Peer;

/** One run of a comparison: a fresh server, one setting, one player count. */
export interface CompareRunSpec {
  server: ServerName;
  /** Sluice's viewer.writeCoalesceMs; null = not set (the server's default; peers always). */
  writeCoalesceMs: number | null;
  players: number;
}

export interface CompareRun extends CompareRunSpec {
  /** Server CPU avg over the peer's at the same player count (the peer's own row: 1). */
  cpuRatio: number | null;
  /** The run's whole report; null when the run failed. */
  report: BenchReport | null;
  error: string | null;
}

export interface CompareReport {
  proto: Proto;
  durationS: number;
  bitrateKbps: number;
  peer: Peer | null;
  pinning: string;
  runs: CompareRun[];
}

/** Fills cpuRatio: each run's average CPU against the peer run with the same player count. */
export function withCpuRatios(runs: CompareRun[], peer: Peer | null): CompareRun[] {
  return runs.map((r) => {
    const base =
      runs.find((p) => p.server === peer && p.players === r.players)?.report?.server.cpuAvgPct ?? null;
    const own = r.report?.server.cpuAvgPct ?? null;
    const cpuRatio = own === null || base === null || base <= 0 ? null : own / base;
    return { ...r, cpuRatio };
  });
}

export const settingLabel = (r: CompareRunSpec): string =>
  r.server !== SLUICE
    ? '-'
    : r.writeCoalesceMs === null
      ? `coalesce ${DEFAULT_COALESCE_MS} ms (default)`
      : `coalesce ${r.writeCoalesceMs} ms`;

const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined ? '-' : n.toFixed(digits);
/** Server RSS the players added, per player (KiB, as report.ts's "per player"). */
const kbPerPlayer = (bytes: number | null): string => (bytes === null ? '-' : (bytes / 1024).toFixed(1));
const pair = (s: Spread | null | undefined, digits = 0): string =>
  s ? `${fmt(s.median, digits)} / ${fmt(s.p99, digits)}` : '-';

const COLUMNS: [string, (r: CompareRun, b: BenchReport) => string][] = [
  ['CPU % avg / max', (_, b) => `${fmt(b.server.cpuAvgPct)} / ${fmt(b.server.cpuMaxPct)}`],
  ['x peer', (r) => fmt(r.cpuRatio, 2)],
  ['RSS max MB', (_, b) => fmt(b.server.rssMaxMb)],
  ['KB/player', (_, b) => kbPerPlayer(b.server.rssPerPlayerBytes)],
  ['first key frame ms p50 / p99', (_, b) => pair(b.firstKeyFrameMs)],
  // One decimal: with the window at 0 the server adds well under a millisecond.
  ['latency ms p50 / p99', (_, b) => pair(b.latencyMs, 1)],
  ['fell behind', (_, b) => String(b.fellBehind.total)],
  ['failed', (_, b) => String(b.connectFailures)],
  ['bench CPU %; loop p99 ms', (_, b) => `${fmt(b.bench.cpuAvgPct)}; ${fmt(b.bench.eventLoopDelayP99Ms)}`],
];

/** One row per (server, setting, players), in run order; then each run's notes and server log. */
export function formatCompareReport(c: CompareReport): string {
  const head = ['server', 'setting', 'players', ...COLUMNS.map(([h]) => h)];
  const rows = c.runs.map((r) => {
    const first = [r.server, settingLabel(r), String(r.players)];
    if (!r.report) return [...first, `failed: ${r.error ?? 'no report'}`];
    const b = r.report;
    return [...first, ...COLUMNS.map(([, f]) => f(r, b))];
  });
  // A failed run's row is its first three cells and the error: it counts for those widths only.
  const widths = head.map((h, i) =>
    Math.max(
      h.length,
      ...rows.filter((row) => i < 3 || row.length === head.length).map((row) => row[i]!.length),
    ),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) =>
        i < 2
          ? cell.padEnd(widths[i]!)
          : i < 3 || cells.length === head.length
            ? cell.padStart(widths[i]!)
            : cell,
      )
      .join('  ')
      .trimEnd();
  const out = [
    `${c.proto} players of one ${c.bitrateKbps} kbps stream, ${c.durationS} s per run, a fresh server per run; ${c.pinning}`,
    "CPU: % of one core in the window; x peer: CPU avg over the peer's at the same player count",
    '',
    line(head),
    ...rows.map(line),
  ];
  for (const r of c.runs) {
    const tag = `${r.server} ${settingLabel(r)} ${r.players}`;
    for (const n of r.report?.notes ?? []) out.push(`note (${tag}): ${n}`);
    const warnings = Object.entries(r.report?.server.warnings ?? {});
    if (warnings.length > 0)
      out.push(`server log (warn+) (${tag}): ${warnings.map(([m, n]) => `${n}x ${m}`).join('; ')}`);
    const codes = Object.entries(r.report?.failureCodes ?? {});
    if (codes.length > 0)
      out.push(`connect failures (${tag}): ${codes.map(([k, n]) => `${k}: ${n}`).join(', ')}`);
  }
  for (const r of c.runs)
    if (r.report?.profile)
      out.push('', `profile (${r.server} ${settingLabel(r)} ${r.players}):`, r.report.profile);
  return out.join('\n');
}
