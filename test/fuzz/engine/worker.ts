import { parentPort, workerData } from 'node:worker_threads';
import { loadSeeds } from './corpus.ts';
import { fuzz } from './fuzz.ts';
import type { Finding, FuzzStats } from './fuzz.ts';
import { loadTargets, selectTargets } from './registry.ts';

/** What the runner asks of one worker: one target, a range of iterations. */
export interface WorkerJob {
  target: string;
  seed: number;
  from: number;
  runs: number;
  timeLimitMs?: number;
  /** Int32Array over a SharedArrayBuffer: [0] = the iteration being run, for the watchdog. */
  progress: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'finding'; finding: Omit<Finding, 'input'> & { input: Uint8Array } }
  | { type: 'done'; stats: FuzzStats };

const job = workerData as WorkerJob;
const [target] = selectTargets(await loadTargets(), job.target);
const progress = new Int32Array(job.progress);
const stats = fuzz({
  target: target!,
  seeds: loadSeeds(target!).map((s) => s.bytes),
  seed: job.seed,
  from: job.from,
  runs: job.runs,
  ...(job.timeLimitMs === undefined ? {} : { timeLimitMs: job.timeLimitMs }),
  onIteration: (i) => Atomics.store(progress, 0, i),
  onFinding: (f) => parentPort!.postMessage({ type: 'finding', finding: f } satisfies WorkerMessage),
});
// Findings went out one by one; the summary does not repeat their inputs.
parentPort!.postMessage({
  type: 'done',
  stats: { ...stats, findings: stats.findings.map((f) => ({ ...f, input: Buffer.alloc(0) })) },
} satisfies WorkerMessage);
