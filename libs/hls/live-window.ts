import { renderLivePlaylist, targetDurationFor, type PlaylistEntry } from './playlist.ts';

export interface LiveWindowOptions {
  /** Segments listed (lal's fragment_num). */
  listSize: number;
  /** The segmenter's target: EXT-X-TARGETDURATION is never below its ceiling. */
  targetMs: number;
  /** Before each segment name in the URI (e.g. `name.hls/`); default none. */
  uriPrefix?: string;
}

/**
 * The sliding window of a live playlist. Segments enter at the end and leave at the start once
 * more than `listSize` are listed, but never when that would leave less than three target
 * durations listed (RFC 8216 §6.2.2), and never more than 3 x listSize in all (short segments
 * after publisher flaps must not grow it without bound).
 */
export class LiveWindow {
  private readonly listSize: number;
  private readonly uriPrefix: string;
  private readonly maxEntries: number;
  private readonly list: PlaylistEntry[] = [];
  private durationMs = 0;
  private target: number;
  private discSeq = 0;
  private isEnded = false;
  private text: string | null = null;

  constructor(opts: LiveWindowOptions) {
    if (!Number.isSafeInteger(opts.listSize) || opts.listSize < 1) {
      throw new RangeError(`listSize must be a positive integer, got ${opts.listSize}`);
    }
    this.listSize = opts.listSize;
    this.uriPrefix = opts.uriPrefix ?? '';
    this.maxEntries = opts.listSize * 3;
    this.target = Math.max(1, Math.ceil(opts.targetMs / 1000));
  }

  /**
   * Lists a new segment; returns the segments that left the window (their files may be deleted
   * after a grace). A sequence number that does not follow the last one empties the window first:
   * a playlist cannot express a gap (§6.2.1, numbers are implied by position). Sequence numbers
   * that do not increase are a caller bug.
   */
  add(e: PlaylistEntry): PlaylistEntry[] {
    const last = this.list[this.list.length - 1];
    let removed: PlaylistEntry[] = [];
    if (last && e.seq <= last.seq) {
      throw new RangeError(`segment ${e.seq} does not follow ${last.seq}`);
    }
    if (last && e.seq !== last.seq + 1) removed = this.list.splice(0);
    this.list.push(e);
    this.isEnded = false;
    // §6.2.1: the target duration must not change; it only ever grows, when a longer segment
    // than any before has to be listed (which is better than listing a segment above it).
    this.target = Math.max(this.target, targetDurationFor(e.durationMs));
    this.durationMs = 0;
    for (const x of this.list) this.durationMs += x.durationMs;
    const minMs = 3 * this.target * 1000;
    while (this.list.length > this.listSize) {
      const first = this.list[0]!;
      if (this.list.length <= this.maxEntries && this.durationMs - first.durationMs < minMs) break;
      this.list.shift();
      this.durationMs -= first.durationMs;
      removed.push(first);
    }
    // §6.2.1: removing a segment that carries EXT-X-DISCONTINUITY increments the sequence.
    for (const r of removed) if (r.discontinuity) this.discSeq++;
    this.text = null;
    return removed;
  }

  /** The stream ended: the playlist gets EXT-X-ENDLIST until a new segment is added. */
  end(): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.text = null;
  }

  get ended(): boolean {
    return this.isEnded;
  }

  get entries(): readonly PlaylistEntry[] {
    return this.list;
  }

  /** Sum of the listed segments' durations. */
  get listedMs(): number {
    return this.durationMs;
  }

  get targetDurationS(): number {
    return this.target;
  }

  get discontinuitySequence(): number {
    return this.discSeq;
  }

  /** The playlist text (built once per change, not per request); null before the first segment. */
  get playlist(): string | null {
    const first = this.list[0];
    if (!first) return null;
    this.text ??= renderLivePlaylist({
      targetDurationS: this.target,
      mediaSequence: first.seq,
      discontinuitySequence: this.discSeq,
      entries: this.list,
      ended: this.isEnded,
      uriPrefix: this.uriPrefix,
    });
    return this.text;
  }
}
