/** What the flusher needs of a viewer: its sink and whether it is corked for this window. */
export interface Holdable {
  readonly sink: { cork(): void; uncork(): void };
  /** Set by the flusher while it holds this viewer corked. */
  held: boolean;
}

/** A stream whose viewers share this window's bytes (see Stream): written once at its end. */
export interface WindowHolder {
  /** Set by the flusher while it holds this stream's window open. */
  windowHeld: boolean;
  flushWindow(): void;
}

/**
 * Write coalescing for a whole node. A viewer is corked the first time something is written
 * to it in a window; at the end of the window one timer uncorks exactly the viewers it corked,
 * including those that left their stream meanwhile, so no socket ever stays corked (a
 * connection that stopped playing still needs its later replies sent). Streams whose viewers
 * share the window's bytes are held the same way and write them at its end. One timer per node,
 * armed only while something is held, instead of one per stream per window.
 *
 * The window bounds what a frame waits in the node, writing included: writing a window to a
 * thousand viewers takes milliseconds, and the viewer written last would get the window's first
 * frame that much after the window. So the timer fires early by the time recent flushes took
 * (the slowest recent one, decaying), never earlier than half the window: a node too busy to
 * write its viewers in half a window gives up latency, not more CPU.
 */
export class Flusher {
  private readonly windowMs: number;
  private held: Holdable[] = [];
  private windows: WindowHolder[] = [];
  private armed = false;
  private timer: NodeJS.Timeout | null = null;
  /** How long flushes take, ms: the last slow one, decaying by an eighth per faster one. */
  private flushCostMs = 0;
  private readonly flushBound = (): void => this.flush();

  /** `windowMs` 0: flush at the end of the current tick. */
  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /** How long the timer waits from the first hold of a window (ms), given recent flushes. */
  get waitMs(): number {
    // Whole milliseconds: Node keeps one timer list per distinct duration.
    return Math.round(Math.max(this.windowMs / 2, this.windowMs - this.flushCostMs));
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
    this.arm();
  }

  /** Flushes `w`'s window at the end of this one unless it is already held. */
  holdWindow(w: WindowHolder): void {
    if (w.windowHeld) return;
    w.windowHeld = true;
    this.windows.push(w);
    this.arm();
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    if (this.windowMs > 0) this.timer = setTimeout(this.flushBound, this.waitMs);
    else process.nextTick(this.flushBound);
  }

  /** Writes the held windows and uncorks everything held now (end of window, shutdown). */
  flush(): void {
    const started = performance.now();
    this.armed = false;
    // Called early (shutdown): the pending timer must not cut the next window short.
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const windows = this.windows;
    this.windows = [];
    for (const w of windows) {
      w.windowHeld = false;
      w.flushWindow();
    }
    const list = this.held;
    this.held = [];
    for (const h of list) {
      h.held = false;
      h.sink.uncork();
    }
    if (this.windowMs > 0) {
      // Up at once, down slowly: the bound should hold for the slow flushes, not the average one.
      const took = performance.now() - started;
      this.flushCostMs = took > this.flushCostMs ? took : this.flushCostMs + (took - this.flushCostMs) / 8;
    }
  }
}
