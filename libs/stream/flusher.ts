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
 */
export class Flusher {
  private readonly windowMs: number;
  private held: Holdable[] = [];
  private windows: WindowHolder[] = [];
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
    if (this.windowMs > 0) setTimeout(this.flushBound, this.windowMs);
    else process.nextTick(this.flushBound);
  }

  /** Writes the held windows and uncorks everything held now (end of window, shutdown). */
  flush(): void {
    this.armed = false;
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
  }
}
