import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * The main-thread profile of the newest server run in `dir`, or null. Node writes one file
 * per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile) and tsx's loader runs in a
 * worker, so of the newest pid's files the largest (the busy main thread) is taken.
 */
export function newestProfile(dir: string): string | null {
  let files: { file: string; pid: string; mtime: number; size: number }[];
  try {
    files = readdirSync(dir)
      .filter((n) => n.endsWith('.cpuprofile'))
      .map((n) => {
        const st = statSync(join(dir, n));
        return { file: join(dir, n), pid: n.split('.')[3] ?? '', mtime: st.mtimeMs, size: st.size };
      });
  } catch {
    return null;
  }
  const newest = files.sort((a, b) => b.mtime - a.mtime)[0];
  if (!newest) return null;
  return files.filter((f) => f.pid === newest.pid).sort((a, b) => b.size - a.size)[0]!.file;
}

/** Groups a frame by where its code lives: libs/rtmp, services/node, node:internal/streams, (garbage collector)... */
function category(url: string, fn: string, repo: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const path = url.startsWith('file://') ? relative(repo, decodeURIComponent(url.slice(7))) : url;
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return `node_modules/${path.slice(nm + 13).split('/')[0]}`;
  const parts = path.split('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : path;
}

/** Node internals by module:line; our files by path only (tsx output has no useful lines). */
function where(url: string, line: number, repo: string): string {
  if (url === '') return '';
  if (url.startsWith('node:')) return `${url}:${line + 1}`;
  return url.startsWith('file://') ? relative(repo, decodeURIComponent(url.slice(7))) : url;
}

/**
 * Self time of the server's V8 CPU profile by code location and by function, limited to
 * samples in [fromUs, toUs] (CLOCK_MONOTONIC microseconds, the clock V8 stamps samples
 * with on Linux) when that range holds any, else over the whole profile.
 */
export function summarizeProfile(file: string, repo: string, fromUs: number, toUs: number, top = 15): string {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const collect = (lo: number, hi: number): Map<number, number> => {
    const self = new Map<number, number>();
    let t = prof.startTime;
    for (let i = 0; i < prof.samples.length; i++) {
      t += prof.timeDeltas[i] ?? 0;
      if (t < lo || t > hi) continue;
      // A sample's time is the gap to the next one (what it stood for).
      const dt = prof.timeDeltas[i + 1] ?? 0;
      self.set(prof.samples[i]!, (self.get(prof.samples[i]!) ?? 0) + dt);
    }
    return self;
  };
  let self = collect(fromUs, toUs);
  let scope = 'measurement window';
  if (self.size === 0) {
    self = collect(-Infinity, Infinity);
    scope = 'whole server run (window clock did not match)';
  }
  const byCat = new Map<string, number>();
  const byFn = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const cf = byId.get(id)?.callFrame;
    if (!cf) continue;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const cat = category(cf.url, cf.functionName, repo);
    byCat.set(cat, (byCat.get(cat) ?? 0) + us);
    const fn = `${cf.functionName || '(anonymous)'} ${where(cf.url, cf.lineNumber, repo)}`.trim();
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
  }
  const pct = (us: number): string => `${((us / Math.max(1, total)) * 100).toFixed(1).padStart(5)}%`;
  const topOf = (m: Map<string, number>): string[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  return [
    `server CPU profile (${scope}; ${(total / 1000).toFixed(0)} ms busy, ${(idle / 1000).toFixed(0)} ms idle): ${relative(repo, file)}`,
    ' self time by location:',
    ...topOf(byCat),
    ' self time by function:',
    ...topOf(byFn),
  ].join('\n');
}

const REPO = resolve(import.meta.dirname, '../..');

/**
 * `--profile` for one spawned server: the directory its .cpuprofile goes to (null when not
 * profiling) and its node flags with that directory added.
 */
export function profiledServer(
  args: { profile: boolean; serverNodeArgs: string[] },
  workDir: string,
): { profileDir: string | null; nodeArgs: string[] } {
  const profileDir = args.profile ? join(workDir, 'prof') : null;
  const nodeArgs = profileDir
    ? [...args.serverNodeArgs, `--cpu-prof-dir=${profileDir}`]
    : args.serverNodeArgs;
  return { profileDir, nodeArgs };
}

/** The summary of the server's newest profile in `dir`, cut to the window (after the server exited). */
export function windowProfile(dir: string, window: { fromUs: number; toUs: number }): string {
  const file = newestProfile(dir);
  return file ? summarizeProfile(file, REPO, window.fromUs, window.toUs) : `no .cpuprofile in ${dir}`;
}
