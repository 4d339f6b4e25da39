import { median } from './stats.ts';

/** Sample times (s) that bound the windows of the memory-growth check for a load phase of `runS`. */
export interface GrowthWindows {
  warmupS: number;
  baseline: [number, number];
  late: [number, number];
}

/**
 * Warm-up: the first 20 % of the run or 2 minutes, whichever is shorter (JIT, pools, the
 * viewer ramp, the first publisher restarts). Baseline: the 20 % of the run right after it.
 * Late: the last 20 % of the run. Medians of each window are compared, so one GC cycle or one
 * sample cannot decide the verdict.
 */
export function growthWindows(runS: number): GrowthWindows {
  const warmupS = Math.min(0.2 * runS, 120);
  const lenS = 0.2 * runS;
  return { warmupS, baseline: [warmupS, warmupS + lenS], late: [runS - lenS, runS] };
}

export interface GrowthResult {
  baseline: number | null;
  late: number | null;
  /** late / baseline - 1; null when a window has no sample. */
  growth: number | null;
  samples: { baseline: number; late: number };
}

/** Growth of a series of (t, value) between the windows; null values (unanswered samples) are skipped. */
export function growth(points: { t: number; v: number | null }[], w: GrowthWindows): GrowthResult {
  const inWin = ([a, b]: [number, number]): number[] =>
    points.filter((p) => p.v !== null && p.t >= a && p.t <= b).map((p) => p.v as number);
  const base = inWin(w.baseline);
  const late = inWin(w.late);
  const mb = median(base);
  const ml = median(late);
  return {
    baseline: mb,
    late: ml,
    growth: mb === null || ml === null || mb === 0 ? null : ml / mb - 1,
    samples: { baseline: base.length, late: late.length },
  };
}
