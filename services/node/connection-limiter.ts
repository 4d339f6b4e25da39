/** Counts media connections across listeners so one limit covers RTMP and HTTP together. */
export class ConnectionLimiter {
  private active = 0;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  get count(): number {
    return this.active;
  }

  /** Returns a release function, or null when the node is full. */
  tryAcquire(): (() => void) | null {
    if (this.active >= this.max) return null;
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
    };
  }
}
