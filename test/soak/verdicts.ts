import type { AbortSummary } from './aborters.ts';
import type { SoakArgs } from './args.ts';
import { THRESHOLDS } from './config.ts';
import type { ZeroCheck } from './end-checks.ts';
import { growth, growthWindows, type GrowthResult, type GrowthWindows } from './growth.ts';
import type { LogTally } from './log-watch.ts';
import type { PublisherSummary } from './publishers.ts';
import {
  Phase,
  type LoadSample,
  type ProcessSample,
  type Restart,
  type SchedulerViewSample,
} from './sampler.ts';
import { max, mean } from './stats.ts';
import type { ViewerSummary } from './viewer-stats.ts';

/**
 * Server protocol errors the soak causes on purpose, by `proto:code`, and which clients cause
 * them. Any other code is an unexpected error.
 */
export const EXPECTED_PROTOCOL_ERRORS: Record<string, string> = {
  'rtmp:RTMP_HANDSHAKE_TIMEOUT': 'rtmp-hang clients (silent after part of C1)',
  'rtmp:VIEWER_STALLED': 'stalled RTMP viewers (cut by the edge)',
  'http:ERR_HTTP_REQUEST_TIMEOUT': 'http-hang clients (silent mid-request)',
  'http:HPE_INVALID_EOF_STATE':
    'http-close-mid-request and ws-close-mid-upgrade clients (EOF inside the request head)',
};

/** Everything a soak run collected: the input of the verdicts and the reports. */
export interface SoakData {
  args: SoakArgs;
  /** Length of the load phase, s (samples after it belong to the end checks). */
  runS: number;
  series: Record<string, ProcessSample[]>;
  /** Which series are Sluice processes (judged); the others are context. */
  judged: string[];
  load: LoadSample[];
  schedulerView: SchedulerViewSample[];
  restarts: Restart[];
  apiFailures: Record<string, number>;
  viewers: ViewerSummary;
  aborts: AbortSummary;
  publishers: PublisherSummary[];
  route: { routed: number; errors: number; lastError: string };
  logs: LogTally;
  /** Media nodes' counters at the end. */
  counters: Record<string, Record<string, number>>;
  schedulerCounters: Record<string, number>;
  sessionsZero: ZeroCheck;
  streamsGone: ZeroCheck;
}

export interface Verdict {
  name: string;
  /** null: not judged (and why is in detail). */
  pass: boolean | null;
  detail: string;
}

export interface MemoryRow {
  process: string;
  rss: GrowthResult;
  /**
   * Judged: the heap right after full GCs (live data); when a process had no full GC in time,
   * sampled heapUsed instead (garbage included, so it can only overstate growth).
   */
  heap: GrowthResult;
  heapBasis: 'after-gc' | 'sampled';
  /** Not judged, for reference: sampled heapUsed, garbage included. */
  heapSampled: GrowthResult;
}

export interface Judgement {
  verdicts: Verdict[];
  pass: boolean;
  windows: GrowthWindows;
  growthLimit: number;
  memory: MemoryRow[];
  loopP99MaxMs: Record<string, number | null>;
  errors: Record<string, number>;
}

const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(1)} %`);

/** Protocol error counters of every node, as `proto:code` -> count. */
export function protocolErrors(counters: Record<string, Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of Object.values(counters)) {
    for (const [k, v] of Object.entries(c)) {
      const m = /^protocol_errors\{(.*)\}$/.exec(k);
      if (!m) continue;
      const code = /code="([^"]*)"/.exec(m[1]!)?.[1] ?? '?';
      const proto = /proto="([^"]*)"/.exec(m[1]!)?.[1] ?? '?';
      out[`${proto}:${code}`] = (out[`${proto}:${code}`] ?? 0) + v;
    }
  }
  return out;
}

/** Every error of the run by kind; each one fails the "no unexpected errors" verdict. */
export function errorsOf(d: SoakData): Record<string, number> {
  const e: Record<string, number> = {};
  const add = (k: string, n: number): void => {
    if (n > 0) e[k] = (e[k] ?? 0) + n;
  };
  for (const [k, n] of Object.entries(d.viewers.problems)) add(`viewer ${k}`, n);
  add('mid-handshake client left open by an edge', d.aborts.hangsNotClosed);
  add('mid-handshake client could not connect', d.aborts.connectErrors);
  for (const p of d.publishers) for (const [k, n] of Object.entries(p.errors)) add(`publisher ${k}`, n);
  add('scheduler route failed', d.route.errors);
  for (const [k, n] of Object.entries(d.apiFailures)) add(`API of ${k} unanswered`, n);
  for (const [k, n] of Object.entries(protocolErrors(d.counters)))
    if (!(k in EXPECTED_PROTOCOL_ERRORS)) add(`unexpected protocol error ${k}`, n);
  add('scheduler internal errors', d.schedulerCounters.scheduler_internal_errors_total ?? 0);
  for (const [k, n] of Object.entries(d.logs.error)) add(`error log: ${k}`, n);
  add('events invalid on the wire', d.logs.events.invalid);
  add('events dropped as invalid by a node', d.logs.unsentEvents);
  return e;
}

export function judge(d: SoakData): Judgement {
  const windows = growthWindows(d.runS);
  const full = d.runS >= THRESHOLDS.growthFullRunMinutes * 60;
  const growthLimit = full ? THRESHOLDS.growth : THRESHOLDS.shortRunGrowth;
  const verdicts: Verdict[] = [];

  const memory: MemoryRow[] = d.judged.map((name) => {
    const pts = (d.series[name] ?? []).filter((s) => s.phase === Phase.Load);
    const afterGc = growth(
      pts.map((s) => ({ t: s.t, v: s.heapAfterGcBytes })),
      windows,
      { lateBaseline: true },
    );
    const sampled = growth(
      pts.map((s) => ({ t: s.t, v: s.heapUsedBytes })),
      windows,
    );
    return {
      process: name,
      rss: growth(
        pts.map((s) => ({ t: s.t, v: s.rssBytes })),
        windows,
      ),
      heap: afterGc.growth === null ? sampled : afterGc,
      heapBasis: afterGc.growth === null ? 'sampled' : 'after-gc',
      heapSampled: sampled,
    };
  });
  const over = memory.flatMap((m) =>
    (['rss', 'heap'] as const)
      .filter((k) => m[k].growth === null || m[k].growth! > growthLimit)
      .map((k) => `${m.process} ${k}${k === 'heap' ? ` (${m.heapBasis})` : ''} ${pct(m[k].growth)}`),
  );
  verdicts.push({
    name: `RSS and heap (read after full GCs) growth after warm-up <= ${growthLimit * 100} %`,
    pass: over.length === 0,
    detail:
      (over.length === 0
        ? `worst: ${worstGrowth(memory)}`
        : `over the limit or unmeasured: ${over.join(', ')}`) +
      (full
        ? ''
        : ` (run shorter than ${THRESHOLDS.growthFullRunMinutes} min: looser limit ${growthLimit * 100} %, the issue's 10 % needs a long run)`),
  });

  const loopP99MaxMs: Record<string, number | null> = {};
  for (const name of d.judged) {
    const xs = (d.series[name] ?? []).filter((s) => s.phase === Phase.Load && s.loopP99Ms !== null);
    loopP99MaxMs[name] = max(xs.map((s) => s.loopP99Ms as number));
  }
  const slow = Object.entries(loopP99MaxMs).filter(([, v]) => v === null || v > THRESHOLDS.loopDelayP99Ms);
  verdicts.push({
    name: `event-loop delay p99 <= ${THRESHOLDS.loopDelayP99Ms} ms (every 10 s window, every process)`,
    pass: slow.length === 0,
    detail: Object.entries(loopP99MaxMs)
      .map(([k, v]) => `${k} ${v === null ? 'n/a' : `${v} ms`}`)
      .join(', '),
  });

  verdicts.push({
    name: 'sessions and viewer counts return to zero when all viewers leave (nodes and scheduler)',
    pass: d.sessionsZero.reached,
    detail: d.sessionsZero.reached
      ? `zero after ${d.sessionsZero.afterMs} ms`
      : `after ${d.sessionsZero.afterMs} ms: ${d.sessionsZero.leftovers.join('; ')}`,
  });
  verdicts.push({
    name: 'streams, sessions and claims gone when publishers stop',
    pass: d.streamsGone.reached,
    detail: d.streamsGone.reached
      ? `gone after ${d.streamsGone.afterMs} ms`
      : `after ${d.streamsGone.afterMs} ms: ${d.streamsGone.leftovers.join('; ')}`,
  });
  verdicts.push({
    name: 'no process restarted',
    pass: d.restarts.length === 0,
    detail:
      d.restarts.length === 0
        ? 'none'
        : d.restarts.map((r) => `${r.process} at ${r.atS} s: ${r.how}`).join('; '),
  });
  const errors = errorsOf(d);
  const nErrors = Object.values(errors).reduce((a, b) => a + b, 0);
  verdicts.push({
    name: 'no unexpected errors',
    pass: nErrors === 0,
    detail:
      nErrors === 0
        ? 'none'
        : Object.entries(errors)
            .map(([k, n]) => `${k}: ${n}`)
            .join('; '),
  });
  const during = d.load.filter((l) => l.phase === Phase.Load && l.t >= windows.warmupS);
  const meanViewers = mean(during.map((l) => l.viewersConnected));
  const loaded = meanViewers !== null && meanViewers >= 0.9 * d.args.viewers;
  verdicts.push({
    name: 'the load was delivered (viewers connected after warm-up >= 90 % of --viewers on average)',
    pass: d.args.viewers === 0 ? null : loaded,
    detail: `mean ${meanViewers === null ? 'n/a' : Math.round(meanViewers)} of ${d.args.viewers}`,
  });
  return {
    verdicts,
    pass: verdicts.every((v) => v.pass !== false),
    windows,
    growthLimit,
    memory,
    loopP99MaxMs,
    errors,
  };
}

function worstGrowth(memory: MemoryRow[]): string {
  let worst = { at: '', g: -Infinity };
  for (const m of memory)
    for (const k of ['rss', 'heap'] as const) {
      const g = m[k].growth;
      if (g !== null && g > worst.g) worst = { at: `${m.process} ${k}`, g };
    }
  return worst.at ? `${worst.at} ${pct(worst.g)}` : 'n/a';
}
