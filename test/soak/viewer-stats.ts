import { percentile, round } from './stats.ts';
import { Behaviour, Outcome, type Problem, type ViewerPlan, type ViewerResult } from './viewer.ts';

/** Examples kept per problem kind, for the report. */
const EXAMPLES_PER_PROBLEM = 8;

export interface ProblemExample {
  id: number;
  proto: string;
  behaviour: string;
  key: string;
  edge: string;
  detail: string;
  atS: number;
  livedS: number;
  bytesIn: number;
}

export interface ViewerSummary {
  started: number;
  startedBy: Record<string, number>;
  outcomes: Record<string, number>;
  problems: Record<string, number>;
  problemsByProto: Record<string, number>;
  problemsByBehaviour: Record<string, number>;
  examples: Record<string, ProblemExample[]>;
  firstKeyFrameMs: { p50: number | null; p99: number | null; max: number | null };
  /** Longest silence per normal viewer (publisher restarts show here). */
  normalMaxGapMs: { p50: number | null; p99: number | null; max: number | null };
  stalledCut: number;
  /** Viewers of missing keys: time until the edge refused them. */
  notFoundMs: { p50: number | null; p99: number | null; max: number | null };
  stalledUnverified: number;
  bytesInMB: number;
}

/** Everything the viewers reported, aggregated (no per-viewer records kept). */
export class ViewerStats {
  private startedTotal = 0;
  private readonly startedBy = new Map<string, number>();
  private readonly outcomes = new Map<string, number>();
  private readonly problems = new Map<string, number>();
  private readonly problemsByProto = new Map<string, number>();
  private readonly problemsByBehaviour = new Map<string, number>();
  private readonly examples = new Map<string, ProblemExample[]>();
  private readonly firstKey: number[] = [];
  private readonly gaps: number[] = [];
  private readonly notFound: number[] = [];
  private bytes = 0;
  private readonly t0 = performance.now();

  started(p: ViewerPlan): void {
    this.startedTotal++;
    bump(this.startedBy, `${p.proto}/${p.behaviour}`);
  }

  add(r: ViewerResult): void {
    bump(this.outcomes, r.outcome);
    this.bytes += r.bytesIn;
    if (r.firstKeyFrameMs !== null) this.firstKey.push(r.firstKeyFrameMs);
    if (r.plan.behaviour === Behaviour.Normal && r.outcome === Outcome.Left) this.gaps.push(r.maxGapMs);
    if (r.outcome === Outcome.NotFound) this.notFound.push(r.durationMs);
    for (const p of r.problems) this.problem(r, p.problem, p.detail);
  }

  /** Problems counted so far, all kinds. */
  get problemCount(): number {
    let n = 0;
    for (const v of this.problems.values()) n += v;
    return n;
  }

  summary(): ViewerSummary {
    const q = (xs: number[]): ViewerSummary['firstKeyFrameMs'] => ({
      p50: round(percentile(xs, 50), 0),
      p99: round(percentile(xs, 99), 0),
      max: round(percentile(xs, 100), 0),
    });
    return {
      started: this.startedTotal,
      startedBy: Object.fromEntries(this.startedBy),
      outcomes: Object.fromEntries(this.outcomes),
      problems: Object.fromEntries(this.problems),
      problemsByProto: Object.fromEntries(this.problemsByProto),
      problemsByBehaviour: Object.fromEntries(this.problemsByBehaviour),
      examples: Object.fromEntries(this.examples),
      firstKeyFrameMs: q(this.firstKey),
      normalMaxGapMs: q(this.gaps),
      stalledCut: this.outcomes.get(Outcome.StallCut) ?? 0,
      notFoundMs: q(this.notFound),
      stalledUnverified: this.outcomes.get(Outcome.Unverified) ?? 0,
      bytesInMB: round(this.bytes / 1e6, 1) ?? 0,
    };
  }

  private problem(r: ViewerResult, problem: Problem, detail: string): void {
    const p = r.plan;
    bump(this.problems, problem);
    bump(this.problemsByProto, `${problem}/${p.proto}`);
    bump(this.problemsByBehaviour, `${problem}/${p.behaviour}`);
    const list = this.examples.get(problem) ?? [];
    if (list.length < EXAMPLES_PER_PROBLEM) {
      list.push({
        id: p.id,
        proto: p.proto,
        behaviour: p.behaviour,
        key: p.key,
        edge: p.edge,
        detail,
        atS: Math.round((performance.now() - this.t0) / 100) / 10,
        livedS: Math.round(r.durationMs / 100) / 10,
        bytesIn: r.bytesIn,
      });
      this.examples.set(problem, list);
    }
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}
