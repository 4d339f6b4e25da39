/**
 * A wake-up flag a sleeping loop can be cut short by. `fire()` before `sleep()` makes the next
 * sleep return at once; `reset()` forgets earlier fires (the loop starts a new round).
 */
export class Wake {
  private fired = false;
  private waiter: (() => void) | null = null;

  fire(): void {
    this.fired = true;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  reset(): void {
    this.fired = false;
  }

  /** Resolves after `ms`, or earlier when fired; true when it was fired. */
  sleep(ms: number): Promise<boolean> {
    if (this.fired) {
      this.fired = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(false);
      }, ms);
      timer.unref();
      this.waiter = () => {
        clearTimeout(timer);
        this.fired = false;
        resolve(true);
      };
    });
  }
}

/** Half the delay plus a random half ("equal jitter"): spread out, yet never much shorter. */
export function equalJitter(ms: number): number {
  return ms / 2 + (Math.random() * ms) / 2;
}
