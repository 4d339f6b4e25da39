/** What the flusher needs of a viewer: its sink and whether it is corked for this window. */
export interface Holdable {
  readonly sink: { cork(): void; uncork(): void };
  /** Set by the flusher while it holds this viewer corked. */
  held: boolean;
}

/**
 * Write coalescing for a whole node. A viewer is corked the first time something is written
 * to it in a window; at the end of the window one timer uncorks exactly the viewers it corked,
 * including those that left their stream meanwhile, so no socket ever stays corked (a
 * connection that stopped playing still needs its later replies sent). One timer per node,
 * armed only while something is held, instead of one per stream per window.
 */
export class Flusher {
  private readonly windowMs: number;
  private held: Holdable[] = [];
  private armed = false;
  private readonly flushBound = (): void => this.flush();

  /** `windowMs` 0: flush at the end of the current tick. */
  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /** How many viewers are corked right now (for tests and stats). */
  get heldCount(): number {
    return this.held.length;
  }

  /** Corks `h` until the end of the window unless it is already held. */
  hold(h: Holdable): void {
    if (h.held) return;
    h.held = true;
    h.sink.cork();
    this.held.push(h);
    if (this.armed) return;
    this.armed = true;
    if (this.windowMs > 0) setTimeout(this.flushBound, this.windowMs);
    else process.nextTick(this.flushBound);
  }

  /** Uncorks everything held now (end of window, shutdown). */
  flush(): void {
    this.armed = false;
    const list = this.held;
    this.held = [];
    for (const h of list) {
      h.held = false;
      h.sink.uncork();
    }
  }
}
