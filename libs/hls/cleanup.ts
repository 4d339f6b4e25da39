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

/**
 * Default grace in segments: RFC 8216 §6.2.2 keeps a segment removed from the playlist available
 * for its own duration plus the duration of the playlist that listed it, listSize + 1 segments
 * of regular length.
 */
export function defaultDeleteThreshold(listSize: number): number {
  return listSize + 1;
}

/**
 * Segments that left the live window and wait for deletion (lal's `delete_threshold`): the
 * newest `keep` stay, so a player that read an older playlist can still fetch what it listed;
 * older ones are deleted. Counted in segments, so memory stays bounded whatever the timing.
 */
export class RetiredSegments {
  private readonly keep: number;
  private readonly list: string[] = [];

  constructor(keep: number) {
    if (!Number.isSafeInteger(keep) || keep < 0)
      throw new RangeError(`keep must be a non-negative integer, got ${keep}`);
    this.keep = keep;
  }

  /** Segments that left the window; returns the names to delete now. */
  retire(names: readonly string[]): string[] {
    this.list.push(...names);
    const excess = this.list.length - this.keep;
    return excess > 0 ? this.list.splice(0, excess) : [];
  }

  /** Everything still waiting (the stream's files are being deleted at once). */
  clear(): string[] {
    return this.list.splice(0);
  }

  get size(): number {
    return this.list.length;
  }
}
