import { entryLines, renderEventHeader, targetDurationFor, type PlaylistEntry } from './playlist.ts';

/**
 * Default bound on a record playlist: 200 000 segments is about 4.6 days of 2 s segments and
 * about 8 MB of text. Past it the recording stops growing (the caller is told once).
 */
export const DEFAULT_MAX_RECORD_ENTRIES = 200_000;

/**
 * The full-list playlist of a recording (lal's record.m3u8): an EVENT playlist (RFC 8216 §4.3.3.5)
 * listing every segment, EXT-X-ENDLIST once the stream ended. Lines are appended as segments
 * close, so adding is O(1); the text is built once per change.
 */
export class RecordPlaylist {
  private readonly maxEntries: number;
  private body = '';
  private firstSeq = -1;
  private lastSeq = -1;
  private count = 0;
  private target: number;
  private isEnded = false;
  private text: string | null = null;

  constructor(opts: { targetMs: number; maxEntries?: number }) {
    this.target = Math.max(1, Math.ceil(opts.targetMs / 1000));
    this.maxEntries = opts.maxEntries ?? DEFAULT_MAX_RECORD_ENTRIES;
  }

  /** Appends a segment; false when the playlist is full (the segment is not listed). */
  add(e: PlaylistEntry): boolean {
    if (this.count >= this.maxEntries) return false;
    if (e.seq <= this.lastSeq) throw new RangeError(`segment ${e.seq} does not follow ${this.lastSeq}`);
    if (this.firstSeq < 0) this.firstSeq = e.seq;
    this.lastSeq = e.seq;
    this.count++;
    this.target = Math.max(this.target, targetDurationFor(e.durationMs));
    this.body += entryLines(e);
    this.isEnded = false;
    this.text = null;
    return true;
  }

  end(): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.text = null;
  }

  /** The stream is live again: no ENDLIST until it ends again. */
  resume(): void {
    if (!this.isEnded) return;
    this.isEnded = false;
    this.text = null;
  }

  get size(): number {
    return this.count;
  }

  get playlist(): string | null {
    if (this.count === 0) return null;
    this.text ??=
      renderEventHeader(this.target, this.firstSeq) + this.body + (this.isEnded ? '#EXT-X-ENDLIST\n' : '');
    return this.text;
  }
}
