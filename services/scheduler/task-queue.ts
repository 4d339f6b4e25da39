/**
 * Runs the Redis reads that events trigger (confirm an owner, reload a node's presence, check a
 * node's record), so that no event, forged or not, costs more than a bounded amount of work:
 *
 * - one run per id at a time; asking again while it runs makes it run once more afterwards
 *   (a burst of events about one key costs at most two reads);
 * - after a run, the id rests `cooldownMs` before it may run again;
 * - at most `concurrency` runs at once, and at most `maxTracked` ids waiting, running or
 *   resting; beyond that a request is dropped (`onDrop`), and the periodic reconcile
 *   catches up with whatever it was about.
 */
export interface TaskQueueOptions {
  concurrency: number;
  maxTracked: number;
  cooldownMs: number;
  onDrop: (id: string) => void;
  onError: (id: string, err: unknown) => void;
}

type Phase = 'queued' | 'running' | 'resting';

interface Task {
  run: () => Promise<void>;
  phase: Phase;
  again: boolean;
}

export class TaskQueue {
  private readonly o: TaskQueueOptions;
  private readonly tasks = new Map<string, Task>();
  private queue: string[] = [];
  private head = 0;
  private running = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(o: TaskQueueOptions) {
    this.o = o;
  }

  /** Ids waiting, running or resting. */
  get size(): number {
    return this.tasks.size;
  }

  request(id: string, run: () => Promise<void>): void {
    if (this.closed) return;
    const t = this.tasks.get(id);
    if (t) {
      t.run = run;
      if (t.phase !== 'queued') t.again = true;
      return;
    }
    if (this.tasks.size >= this.o.maxTracked) {
      this.o.onDrop(id);
      return;
    }
    this.tasks.set(id, { run, phase: 'queued', again: false });
    this.enqueue(id);
  }

  /** Resolves once nothing is queued or running (resting ids do not count). For tests and shutdown. */
  idle(): Promise<void> {
    if (this.running === 0 && this.head >= this.queue.length) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops starting runs; those in flight finish. */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.tasks.clear();
    this.wakeIdle();
  }

  private enqueue(id: string): void {
    this.queue.push(id);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.o.concurrency && this.head < this.queue.length) {
      const id = this.queue[this.head++]!;
      const t = this.tasks.get(id);
      if (!t) continue;
      t.phase = 'running';
      this.running++;
      t.run()
        .catch((err: unknown) => this.o.onError(id, err))
        .finally(() => this.finished(id, t));
    }
    // Compact the consumed head now and then, so the array does not grow forever.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.running === 0 && this.head >= this.queue.length) this.wakeIdle();
  }

  private finished(id: string, t: Task): void {
    this.running--;
    if (this.closed || this.tasks.get(id) !== t) {
      this.pump();
      return;
    }
    if (this.o.cooldownMs > 0) {
      t.phase = 'resting';
      setTimeout(() => this.rested(id, t), this.o.cooldownMs).unref();
    } else {
      this.rested(id, t);
    }
    this.pump();
  }

  private rested(id: string, t: Task): void {
    if (this.tasks.get(id) !== t) return;
    if (!t.again) {
      this.tasks.delete(id);
      return;
    }
    t.again = false;
    t.phase = 'queued';
    this.enqueue(id);
  }

  private wakeIdle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
