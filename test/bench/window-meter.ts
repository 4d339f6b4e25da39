import { cpus } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { cpuPercents, hostCpuTicks, LOOP_RESOLUTION_MS, loopDelayMs, type ProcSample } from './sampler.ts';

/** The bench's own cost and the host's load over a window: whether the bench or the host was the limit. */
export interface WindowFigures {
  windowS: number;
  /** Loop delay: the lateness of a 10 ms timer, the interval itself not included (sampler.ts). */
  bench: {
    cpuAvgPct: number;
    eventLoopDelayP50Ms: number;
    eventLoopDelayP99Ms: number;
    eventLoopDelayMaxMs: number;
  };
  /** Whole machine, 100 per core. */
  host: { cores: number; cpuAvgPct: number | null };
}

/**
 * The bench set the pace when its loop was late by this much (p99) or it used most of its one
 * thread: the same thresholds for a fan-out run (report.ts) and the scenarios.
 */
export const BENCH_LOOP_LIMIT_MS = 100;
export const BENCH_CPU_LIMIT_PCT = 90;

/** A process's CPU (100 = one core) and RSS from its samples over a window. */
export interface ProcFigures {
  cpuAvgPct: number | null;
  cpuMaxPct: number | null;
  rssMaxMb: number | null;
}

/** Started at the window's start, ended at its end: bench CPU, event-loop delay, host CPU. */
export class WindowMeter {
  private readonly loopDelay: IntervalHistogram;
  private readonly cpuStart = process.cpuUsage();
  private readonly hostStart = hostCpuTicks();
  private readonly wallStart = performance.now();

  constructor() {
    this.loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.loopDelay.enable();
  }

  end(): WindowFigures {
    const windowS = (performance.now() - this.wallStart) / 1000;
    this.loopDelay.disable();
    const cpu = process.cpuUsage(this.cpuStart);
    const hostEnd = hostCpuTicks();
    // /proc/stat sums every CPU; availableParallelism() would count only the pinned bench's.
    const cores = cpus().length;
    const a = this.hostStart;
    return {
      windowS,
      bench: {
        cpuAvgPct: ((cpu.user + cpu.system) / 1000 / (windowS * 1000)) * 100,
        eventLoopDelayP50Ms: loopDelayMs(this.loopDelay.percentile(50)),
        eventLoopDelayP99Ms: loopDelayMs(this.loopDelay.percentile(99)),
        eventLoopDelayMaxMs: loopDelayMs(this.loopDelay.max),
      },
      host: {
        cores,
        cpuAvgPct:
          a && hostEnd && hostEnd.total > a.total
            ? ((hostEnd.busy - a.busy) / (hostEnd.total - a.total)) * 100 * cores
            : null,
      },
    };
  }
}

export function procFigures(samples: ProcSample[]): ProcFigures {
  const cpu = cpuPercents(samples);
  const rss = samples.map((s) => s.rssBytes).filter((x): x is number => x !== null);
  return {
    cpuAvgPct: cpu.length ? cpu.reduce((x, y) => x + y, 0) / cpu.length : null,
    cpuMaxPct: cpu.length ? Math.max(...cpu) : null,
    rssMaxMb: rss.length ? Math.max(...rss) / 1024 / 1024 : null,
  };
}

/**
 * Why the bench, not the server, set the pace, or null. `latePublishers` sent a tag over
 * 500 ms late: their pacing timer ran late, which is the bench's event loop, not the server.
 */
export function benchLimit(b: WindowFigures['bench'], latePublishers: number): string | null {
  const why: string[] = [];
  if (latePublishers > 0) why.push(`${latePublishers} publishers sent tags late`);
  if (b.eventLoopDelayP99Ms > BENCH_LOOP_LIMIT_MS)
    why.push(`event-loop delay p99 ${b.eventLoopDelayP99Ms.toFixed(0)} ms`);
  if (b.cpuAvgPct > BENCH_CPU_LIMIT_PCT) why.push(`bench CPU ${b.cpuAvgPct.toFixed(0)} % of its one thread`);
  return why.length > 0 ? why.join(', ') : null;
}
