import type { HlsClientStats, HlsCounters } from './hls-client.ts';
import { LATE_FACTOR } from './playlist-follower.ts';

/** The HLS clients' figures: counters over the window, errors over the whole run. */
export interface HlsSummary {
  clients: number;
  sockets: number;
  /** EXT-X-TARGETDURATION the clients last saw (the largest), seconds. */
  targetDurationS: number | null;
  window: HlsCounters;
  /** Segments fetched in the window per client: min / median. */
  segmentsPerClient: { min: number; median: number } | null;
  errors: number;
  errorCodes: Record<string, number>;
  /** Per client, the largest certain gap between segment appearances (ms): median / p99 / max. */
  maxGapMs: { median: number; p99: number; max: number } | null;
  /** Per client, the slowest segment download (ms): median / p99 / max. */
  maxDownloadMs: { median: number; p99: number; max: number } | null;
}

const NO_COUNTS: HlsCounters = { polls: 0, segments: 0, late: 0, skipped: 0, slow: 0 };

export const snapshotCounters = (c: HlsCounters): HlsCounters => ({ ...c });

export function windowCounters(end: HlsCounters, start: HlsCounters): HlsCounters {
  return {
    polls: end.polls - start.polls,
    segments: end.segments - start.segments,
    late: end.late - start.late,
    skipped: end.skipped - start.skipped,
    slow: end.slow - start.slow,
  };
}

/** A client fell behind: any late, skipped or slow segment in the window, or any failed request. */
export const hlsBehind = (w: HlsCounters, s: HlsClientStats): boolean =>
  w.late > 0 || w.skipped > 0 || w.slow > 0 || s.errors > 0;

const rank = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;

function tail(values: number[]): { median: number; p99: number; max: number } | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return { median: rank(s, 0.5), p99: rank(s, 0.99), max: s[s.length - 1]! };
}

/** `windows[i]` are client i's counters over the window. */
export function summarizeHls(stats: HlsClientStats[], windows: HlsCounters[], sockets: number): HlsSummary {
  const total = windows.reduce(
    (a, w) => ({
      polls: a.polls + w.polls,
      segments: a.segments + w.segments,
      late: a.late + w.late,
      skipped: a.skipped + w.skipped,
      slow: a.slow + w.slow,
    }),
    NO_COUNTS,
  );
  const codes: Record<string, number> = {};
  for (const s of stats) for (const [k, n] of s.errorCodes) codes[k] = (codes[k] ?? 0) + n;
  const segs = windows.map((w) => w.segments).sort((a, b) => a - b);
  const targets = stats.map((s) => s.targetDurationS).filter((t) => t > 0);
  return {
    clients: stats.length,
    sockets,
    targetDurationS: targets.length ? Math.max(...targets) : null,
    window: total,
    segmentsPerClient: segs.length ? { min: segs[0]!, median: rank(segs, 0.5) } : null,
    errors: stats.reduce((a, s) => a + s.errors, 0),
    errorCodes: codes,
    maxGapMs: tail(stats.map((s) => s.maxGapMs).filter((g) => g >= 0)),
    maxDownloadMs: tail(stats.map((s) => s.maxDownloadMs).filter((d) => d > 0)),
  };
}

const trio = (t: { median: number; p99: number; max: number } | null): string =>
  t ? `${Math.round(t.median)} / ${Math.round(t.p99)} / ${Math.round(t.max)}` : 'n/a';

/** Rows for the human table. */
export function formatHlsRows(h: HlsSummary): [string, string][] {
  const w = h.window;
  const codes = Object.entries(h.errorCodes)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
  return [
    ['HLS target duration s; agent sockets', `${h.targetDurationS ?? 'n/a'}; ${h.sockets}`],
    [
      'HLS in window: polls; segments (per client min / median)',
      `${w.polls}; ${w.segments} (${h.segmentsPerClient ? `${h.segmentsPerClient.min} / ${h.segmentsPerClient.median}` : 'n/a'})`,
    ],
    [
      `HLS in window: late (>${LATE_FACTOR}x target) / skipped / slow segments`,
      `${w.late} / ${w.skipped} / ${w.slow}`,
    ],
    ['HLS fetch errors (whole run)', `${h.errors}${codes ? ` (${codes})` : ''}`],
    ['HLS max segment gap ms median / p99 / max', trio(h.maxGapMs)],
    ['HLS max download ms median / p99 / max', trio(h.maxDownloadMs)],
  ];
}
