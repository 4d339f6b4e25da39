import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** One reading of a process's cumulative CPU time and current RSS. */
export interface ProcSample {
  atMs: number;
  cpuMicros: number | null;
  rssBytes: number | null;
}

export interface ServerProbe {
  /** Where the numbers come from, for the report. */
  readonly source: string;
  read(): Promise<ProcSample>;
}

let clockTicks = 0;
function clkTck(): number {
  if (clockTicks === 0) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    clockTicks = Number(r.stdout) || 100;
  }
  return clockTicks;
}

/** /proc/<pid>/stat utime+stime (fields 14, 15, in clock ticks) and /proc/<pid>/status VmRSS. */
export function procProbe(pid: number): ServerProbe {
  const tck = clkTck();
  return {
    source: `/proc/${pid}`,
    read(): Promise<ProcSample> {
      const atMs = performance.now();
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
        // comm (field 2) may contain spaces and parentheses: split after its closing ')'.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ticks = Number(fields[11]) + Number(fields[12]);
        const status = readFileSync(`/proc/${pid}/status`, 'latin1');
        const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
        return Promise.resolve({
          atMs,
          cpuMicros: (ticks * 1e6) / tck,
          rssBytes: m ? Number(m[1]) * 1024 : null,
        });
      } catch {
        return Promise.resolve({ atMs, cpuMicros: null, rssBytes: null });
      }
    },
  };
}

interface StatsBody {
  memory?: { rssBytes?: number };
  cpu?: { userMicros?: number; systemMicros?: number };
}

/** GET /api/v1/stats: memory.rssBytes, and cpu.userMicros + cpu.systemMicros when the server has them. */
export function apiProbe(api: string): ServerProbe {
  return {
    source: `${api}/api/v1/stats`,
    async read(): Promise<ProcSample> {
      const atMs = performance.now();
      try {
        const r = await fetch(`${api}/api/v1/stats`, { signal: AbortSignal.timeout(2000) });
        const j = (await r.json()) as StatsBody;
        const u = j.cpu?.userMicros;
        const s = j.cpu?.systemMicros;
        return {
          atMs,
          cpuMicros: typeof u === 'number' && typeof s === 'number' ? u + s : null,
          rssBytes: j.memory?.rssBytes ?? null,
        };
      } catch {
        return { atMs, cpuMicros: null, rssBytes: null };
      }
    },
  };
}

/** CPU% of one core between consecutive samples (null where a sample lacks CPU). */
export function cpuPercents(samples: ProcSample[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if (a.cpuMicros === null || b.cpuMicros === null || b.atMs <= a.atMs) continue;
    out.push(((b.cpuMicros - a.cpuMicros) / ((b.atMs - a.atMs) * 1000)) * 100);
  }
  return out;
}

/** Busy and total jiffies of all CPUs (/proc/stat line "cpu"), or null off Linux. */
export function hostCpuTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
    // user nice system idle iowait irq softirq steal; guest times are already inside user/nice.
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    // idle + iowait are fields 4 and 5.
    return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
  } catch {
    return null;
  }
}

/** Interval of the bench's monitorEventLoopDelay timer. */
export const LOOP_RESOLUTION_MS = 10;

/**
 * monitorEventLoopDelay records the whole time between its timer's runs, interval included
 * (an idle loop reads 10.1 ms at resolution 10): the delay is what exceeds the interval.
 */
export const loopDelayMs = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
