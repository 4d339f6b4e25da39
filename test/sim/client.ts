import { fork, type ChildProcess } from 'node:child_process';
import { routeViewers, type RouteRun, type Viewer } from './viewers.ts';

// The load client runs in a process of its own: the simulated nodes keep the simulation's
// process busy (a thousand agents, ten thousand lease refreshes every 3 s), and a real client
// does not share an event loop with them. It lives through every step (a long-lived client,
// like a load balancer), and each step starts with a warm-up whose answers are not counted.
// Answers come back in batches; each viewer is then served by the edge it was sent to.

export interface Job {
  url: string;
  /** Routed first, not timed, not served (warms up connections and JIT on both sides). */
  warmup: Viewer[];
  viewers: Viewer[];
  concurrency: number;
  ratePerSec: number;
}

type FromClient =
  | { type: 'routed'; batch: [number, string][] }
  | { type: 'done'; run: Omit<RouteRun, 'latenciesMs'> & { latenciesMs: number[] } };

export class LoadClient {
  private readonly child: ChildProcess;

  constructor() {
    this.child = fork(new URL(import.meta.url).pathname, ['--child'], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    process.once('exit', () => this.child.kill('SIGKILL'));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Routes the job's viewers; `routed(i, edgeId)` is called as answers arrive. */
  run(job: Job, routed: (i: number, edgeId: string) => void): Promise<RouteRun> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`load client exited with ${code}`));
      const onMessage = (m: FromClient): void => {
        if (m.type === 'routed') {
          for (const [i, edge] of m.batch) routed(i, edge);
          return;
        }
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        resolve({ ...m.run, latenciesMs: Float64Array.from(m.run.latenciesMs) });
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send(job);
    });
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
  }
}

if (process.argv.includes('--child')) {
  process.on('message', (job: Job) => {
    let batch: [number, string][] = [];
    const flush = (): void => {
      if (batch.length) process.send!({ type: 'routed', batch } satisfies FromClient);
      batch = [];
    };
    const common = { url: job.url, concurrency: job.concurrency, ratePerSec: job.ratePerSec };
    void routeViewers({
      ...common,
      count: job.warmup.length,
      viewer: (i) => job.warmup[i]!,
      routed: () => {},
    })
      .then(() => {
        const timer = setInterval(flush, 50);
        return routeViewers({
          ...common,
          count: job.viewers.length,
          viewer: (i) => job.viewers[i]!,
          routed: (i, edge) => batch.push([i, edge]),
        }).finally(() => clearInterval(timer));
      })
      .then((run) => {
        flush();
        process.send!({
          type: 'done',
          run: { ...run, latenciesMs: [...run.latenciesMs] },
        } satisfies FromClient);
      });
  });
}
