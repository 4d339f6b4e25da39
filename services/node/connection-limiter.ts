/** Counts media connections across listeners so one limit covers RTMP and HTTP together. */
export class ConnectionLimiter {
  private active = 0;
  private readonly max: number;
  private readonly perProtocol = new Map<string, number>();

  constructor(max: number) {
    this.max = max;
  }

  get count(): number {
    return this.active;
  }

  /** Open connections by protocol (for the connections gauge). */
  get byProtocol(): ReadonlyMap<string, number> {
    return this.perProtocol;
  }

  /** Returns a release function, or null when the node is full. */
  tryAcquire(protocol = 'other'): (() => void) | null {
    if (this.active >= this.max) return null;
    this.active++;
    this.perProtocol.set(protocol, (this.perProtocol.get(protocol) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.perProtocol.set(protocol, (this.perProtocol.get(protocol) ?? 1) - 1);
    };
  }
}
