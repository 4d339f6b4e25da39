// npm run fuzz -- --target NAME|all --runs N [--seed S] [--time-limit-s T] | --list | --iteration I
// Coverage-free mutation fuzzing of every parser, seeded with the captures in corpus/. See README.md.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { loadSeeds } from './engine/corpus.ts';
import { writeCrasher } from './engine/crashers.ts';
import { generateInput, runOne } from './engine/fuzz.ts';
import type { FuzzStats } from './engine/fuzz.ts';
import { loadTargets, selectTargets } from './engine/registry.ts';
import type { FuzzTarget } from './engine/target.ts';
import type { WorkerJob, WorkerMessage } from './engine/worker.ts';

const USAGE = `usage: npm run fuzz -- --target NAME[,NAME...]|all [--runs N] [--seed S] [--time-limit-s T]
       npm run fuzz -- --list
       npm run fuzz -- --target NAME --seed S --iteration I [--out FILE]   (regenerate one input)`;

/** No progress for this long means the parser hangs on the current input. */
const HANG_MS = 10_000;

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    runs: { type: 'string', default: '100000' },
    seed: { type: 'string' },
    'time-limit-s': { type: 'string' },
    list: { type: 'boolean' },
    iteration: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

const targets = await loadTargets();
if (values.help || (!values.list && !values.target)) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
if (values.list) {
  for (const t of targets) {
    const seeds = loadSeeds(t);
    const bytes = seeds.reduce((n, s) => n + s.bytes.length, 0);
    console.log(
      `${t.name.padEnd(22)} ${String(seeds.length).padStart(3)} seeds ${String(bytes).padStart(7)} B  ${t.description}`,
    );
  }
  process.exit(0);
}

const seed = values.seed === undefined ? Date.now() % 0x100000000 : Number(values.seed) >>> 0;
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer`);
const timeLimitMs = values['time-limit-s'] === undefined ? undefined : Number(values['time-limit-s']) * 1000;
const selected = selectTargets(targets, values.target!);

if (values.iteration !== undefined) {
  replayIteration(selected[0]!, Number(values.iteration));
  process.exit(0);
}

console.log(`seed ${seed} (repeat with --seed ${seed})`);
let findings = 0;
for (const t of selected) findings += await fuzzTarget(t);
process.exit(findings > 0 ? 1 : 0);

function replayIteration(t: FuzzTarget, iteration: number): void {
  const input = generateInput(
    t,
    loadSeeds(t).map((s) => s.bytes),
    seed,
    iteration,
  );
  console.log(`${t.name} seed ${seed} iteration ${iteration}: ${input.length} bytes`);
  console.log(input.subarray(0, 256).toString('hex') + (input.length > 256 ? '…' : ''));
  if (values.out) writeFileSync(values.out, input);
  const out = runOne(t, input);
  console.log(
    out.kind === 'finding'
      ? `FINDING ${out.summary}`
      : out.kind === 'allowed'
        ? `allowed error ${out.code}`
        : 'ok',
  );
}

/** Runs one target in workers (a new one after a hang), prints its line, returns its findings. */
async function fuzzTarget(t: FuzzTarget): Promise<number> {
  const seeds = loadSeeds(t).map((s) => s.bytes);
  const total: FuzzStats = {
    target: t.name,
    runs: 0,
    elapsedMs: 0,
    ok: 0,
    codes: {},
    findings: [],
    slowestMs: 0,
  };
  let from = 0;
  const started = Date.now();
  while (from < runs) {
    const left = timeLimitMs === undefined ? undefined : timeLimitMs - (Date.now() - started);
    if (left !== undefined && left <= 0) break;
    const r = await runWorker(t, from, runs - from, left);
    merge(total, r.stats);
    if (r.hungAt === undefined) break;
    const input = generateInput(t, seeds, seed, r.hungAt);
    const file = writeCrasher(
      t.name,
      input,
      `hang: no return in ${HANG_MS / 1000} s\nfound by: npm run fuzz -- --target ${t.name} --seed ${seed} --iteration ${r.hungAt}`,
    );
    console.log(`  HANG at iteration ${r.hungAt} (${input.length} bytes) -> ${file}`);
    total.findings.push({
      iteration: r.hungAt,
      signature: 'hang',
      summary: 'hang',
      input,
      originalBytes: input.length,
    });
    from = r.hungAt + 1;
  }
  report(total);
  return total.findings.length;
}

function runWorker(
  t: FuzzTarget,
  from: number,
  count: number,
  timeLimit: number | undefined,
): Promise<{ stats: FuzzStats; hungAt?: number }> {
  const progress = new SharedArrayBuffer(4);
  const view = new Int32Array(progress);
  Atomics.store(view, 0, from);
  const job: WorkerJob = {
    target: t.name,
    seed,
    from,
    runs: count,
    progress,
    ...(timeLimit === undefined ? {} : { timeLimitMs: timeLimit }),
  };
  // Node 20 does not apply --import loaders to a worker's .ts entry, so a small script
  // registers tsx in the worker first.
  const entry = new URL('./engine/worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: job });
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    let last = from;
    let lastMove = Date.now();
    const watchdog = setInterval(() => {
      const now = Atomics.load(view, 0);
      if (now !== last) {
        last = now;
        lastMove = Date.now();
      } else if (Date.now() - lastMove > HANG_MS) {
        clearInterval(watchdog);
        void worker.terminate();
        const ran = now - from;
        resolve({
          stats: {
            target: t.name,
            runs: ran,
            elapsedMs: Date.now() - startedAt,
            ok: 0,
            codes: {},
            findings: [],
            slowestMs: HANG_MS,
          },
          hungAt: now,
        });
      }
    }, 500);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'finding') {
        const f = m.finding;
        const input = Buffer.from(f.input);
        const note = [
          f.summary,
          `found by: npm run fuzz -- --target ${t.name} --seed ${seed} --iteration ${f.iteration}`,
          `minimized from ${f.originalBytes} to ${input.length} bytes`,
        ].join('\n');
        const file = writeCrasher(t.name, input, note);
        console.log(
          `  FINDING at iteration ${f.iteration}: ${f.signature}\n    -> ${file} (${input.length} bytes)`,
        );
      } else {
        clearInterval(watchdog);
        resolve({ stats: m.stats });
      }
    });
    worker.on('error', (e) => {
      clearInterval(watchdog);
      reject(e);
    });
  });
}

function merge(into: FuzzStats, s: FuzzStats): void {
  into.runs += s.runs;
  into.elapsedMs += s.elapsedMs;
  into.ok += s.ok;
  for (const [k, v] of Object.entries(s.codes)) into.codes[k] = (into.codes[k] ?? 0) + v;
  into.findings.push(...s.findings);
  if (s.slowestMs > into.slowestMs) {
    into.slowestMs = s.slowestMs;
    if (s.slowestIteration !== undefined) into.slowestIteration = s.slowestIteration;
  }
}

function report(s: FuzzStats): void {
  const rate = s.runs / (s.elapsedMs / 1000);
  const pct = (n: number): string => `${((100 * n) / Math.max(1, s.runs)).toFixed(1)}%`;
  const codes = Object.entries(s.codes)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([k, v]) => `${k} ${pct(v)}`)
    .join(', ');
  console.log(
    `${s.target}: ${s.runs} inputs in ${(s.elapsedMs / 1000).toFixed(1)} s (${Math.round(rate)}/s), ` +
      `parsed ${pct(s.ok)}, slowest call ${s.slowestMs.toFixed(1)} ms` +
      `${s.slowestIteration === undefined ? '' : ` (iteration ${s.slowestIteration})`}, findings ${s.findings.length}` +
      (codes ? `\n  errors: ${codes}` : ''),
  );
}
