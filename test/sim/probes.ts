import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

// What the simulation measures from outside the processes: the scheduler's CPU and memory
// from /proc, Redis's command count from INFO, NATS's message count from its monitoring port.

/** Linux clock ticks per second (USER_HZ), what /proc/<pid>/stat counts CPU time in. */
const TICKS_PER_SECOND = 100;

export interface ProcSample {
  atMs: number;
  cpuTicks: number;
  rssBytes: number;
}

export function sampleProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /VmRSS:\s+(\d+) kB/.exec(status);
  return { atMs: performance.now(), cpuTicks: utime + stime, rssBytes: rss ? Number(rss[1]) * 1024 : 0 };
}

/** CPU between two samples, 100 = one core. */
export function cpuPercent(a: ProcSample, b: ProcSample): number {
  const seconds = (b.atMs - a.atMs) / 1000;
  return seconds > 0 ? ((b.cpuTicks - a.cpuTicks) / TICKS_PER_SECOND / seconds) * 100 : 0;
}

/** Commands Redis has processed so far (INFO stats). */
export async function redisCommands(redis: Redis): Promise<number> {
  const info = await redis.info('stats');
  const m = /total_commands_processed:(\d+)/.exec(info);
  return m ? Number(m[1]) : 0;
}

/** Messages the NATS server has received from clients so far (/varz in_msgs). */
export async function natsInMsgs(monitorPort: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${monitorPort}/varz`);
  const v = (await res.json()) as { in_msgs?: number };
  return v.in_msgs ?? 0;
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}
