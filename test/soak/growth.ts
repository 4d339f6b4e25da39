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
  /** Set when the baseline window had no value and the first value after it stood in (time, s). */
  baselineFromS?: number;
  late: number | null;
  /** late / baseline - 1; null when a window has no sample. */
  growth: number | null;
  samples: { baseline: number; late: number };
}

/**
 * Growth of a series of (t, value) between the windows; null values (unanswered samples, or no
 * full GC yet) are skipped. With `lateBaseline`, an empty baseline window borrows the first value
 * after it that comes before the late window (a gauge that only exists after the first full GC).
 */
export function growth(
  points: { t: number; v: number | null }[],
  w: GrowthWindows,
  opts: { lateBaseline?: boolean } = {},
): GrowthResult {
  const inWin = ([a, b]: [number, number]): number[] =>
    points.filter((p) => p.v !== null && p.t >= a && p.t <= b).map((p) => p.v as number);
  let base = inWin(w.baseline);
  let baselineFromS: number | undefined;
  if (base.length === 0 && opts.lateBaseline) {
    const first = points.find((p) => p.v !== null && p.t > w.baseline[1] && p.t < w.late[0]);
    if (first) {
      base = [first.v as number];
      baselineFromS = first.t;
    }
  }
  const late = inWin(w.late);
  const mb = median(base);
  const ml = median(late);
  return {
    baseline: mb,
    ...(baselineFromS === undefined ? {} : { baselineFromS }),
    late: ml,
    growth: mb === null || ml === null || mb === 0 ? null : ml / mb - 1,
    samples: { baseline: base.length, late: late.length },
  };
}
