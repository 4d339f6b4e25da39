import { spawnSync } from 'node:child_process';

/**
 * Which CPUs the measured server and the load generator get. On a shared 2-core host the
 * scheduler otherwise moves both across both cores, and the server's CPU figure then depends on
 * how busy the bench was; pinned, each has its own core and the ratios between runs hold.
 */
export interface PinPlan {
  serverCpu: number;
  benchCpus: number[];
}

/** "0-3,5" -> [0, 1, 2, 3, 5] (the format of taskset -c and /sys cpulist files). */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a CPU list: ${list}`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new Error(`not a CPU list: ${list}`);
    for (let c = from; c <= to; c++) out.push(c);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

/** [1, 2, 3, 5] -> "1-3,5". */
export function formatCpuList(cpus: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length;) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The server on the first CPU this process may use, the bench on the others; null below 2 CPUs. */
export function planPinning(allowed: number[]): PinPlan | null {
  if (allowed.length < 2) return null;
  return { serverCpu: allowed[0]!, benchCpus: allowed.slice(1) };
}

export const describePinning = (p: PinPlan): string =>
  `server on CPU ${p.serverCpu}, bench and its ffmpeg on CPU ${formatCpuList(p.benchCpus)}`;

/** CPUs this process may run on (`taskset -pc`), or null when taskset is missing. */
export function allowedCpus(): number[] | null {
  const r = spawnSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  // "pid 123's current affinity list: 0,1"
  const m = /list:\s*(\S+)/.exec(r.stdout);
  return m ? parseCpuList(m[1]!) : null;
}

/**
 * Moves every thread of this process (-a: libuv's pool and V8's helpers already run) to the
 * bench's CPUs. Children spawned afterwards (ffmpeg) inherit the mask.
 */
export function pinSelf(plan: PinPlan): void {
  const r = spawnSync('taskset', ['-a', '-pc', formatCpuList(plan.benchCpus), String(process.pid)], {
    encoding: 'utf8',
  });
  if (r.error || r.status !== 0)
    throw new Error(`taskset could not pin the bench: ${r.error?.message ?? r.stderr.trim()}`);
}

/**
 * The command line that runs `file args` on one CPU. taskset sets the mask and execs, so the
 * spawned child's pid is the server itself and /proc/<pid> describes it.
 */
export function pinnedCommand(cpu: number | null, file: string, args: string[]): [string, string[]] {
  return cpu === null ? [file, args] : ['taskset', ['-c', String(cpu), file, ...args]];
}

/** The plan, or null; `why` says which CPUs for the report, or why none. */
export interface PinDecision {
  plan: PinPlan | null;
  why: string;
}

/**
 * Pinning for this invocation: `requested` true (--pin) must succeed, false (--no-pin) is off,
 * null (the default) pins when the host allows.
 */
export function resolvePinning(requested: boolean | null): PinDecision {
  if (requested === false) return { plan: null, why: 'not pinned (--no-pin)' };
  const allowed = allowedCpus();
  const plan = allowed ? planPinning(allowed) : null;
  if (plan) return { plan, why: describePinning(plan) };
  const why = allowed
    ? `not pinned: this process may use only CPU ${formatCpuList(allowed)}`
    : 'not pinned: taskset (util-linux) is not available';
  if (requested === true) throw new Error(`--pin: ${why.replace('not pinned: ', '')}`);
  return { plan: null, why };
}
