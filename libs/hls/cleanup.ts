/**
 * lal's `cleanup_mode`: 0 never deletes; 1 deletes a stream's segments and playlists some time
 * after the stream ended; 2 also deletes segments continuously as they leave the live window
 * (after a grace). The memory store always behaves like 2 (its memory must stay bounded).
 */
export const CleanupMode = { Never: 0, AfterEnd: 1, Continuous: 2 } as const;
export type CleanupMode = (typeof CleanupMode)[keyof typeof CleanupMode];

export function isCleanupMode(n: unknown): n is CleanupMode {
  return n === 0 || n === 1 || n === 2;
}

interface Retired {
  readonly name: string;
  readonly deleteAtMs: number;
}

/**
 * Segments that left the live window and wait for deletion. RFC 8216 §6.2.2: a segment removed
 * from the playlist stays available for its own duration plus the duration of the longest
 * playlist that listed it. Time is the stream's timeline (the end of the newest segment), so
 * deletion follows the media and needs no timer; at most `maxRetired` wait, whatever their age.
 */
export class RetiredSegments {
  private readonly maxRetired: number;
  private readonly list: Retired[] = [];

  constructor(maxRetired: number) {
    this.maxRetired = Math.max(0, maxRetired);
  }

  /** A segment left the window at stream time `nowMs`, listed by a playlist of `listedMs`. */
  retire(name: string, durationMs: number, listedMs: number, nowMs: number): void {
    this.list.push({ name, deleteAtMs: nowMs + durationMs + listedMs });
  }

  /** Names to delete now: those past their grace, and the oldest beyond `maxRetired`. */
  due(nowMs: number): string[] {
    let n = 0;
    while (
      n < this.list.length &&
      (this.list[n]!.deleteAtMs <= nowMs || this.list.length - n > this.maxRetired)
    )
      n++;
    return this.list.splice(0, n).map((r) => r.name);
  }

  /** Everything still waiting (the stream's files are being deleted at once). */
  clear(): string[] {
    return this.list.splice(0).map((r) => r.name);
  }

  get size(): number {
    return this.list.length;
  }
}
