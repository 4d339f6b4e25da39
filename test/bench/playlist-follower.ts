import type { MediaPlaylist } from './hls-playlist.ts';

/** A segment counts as late when it certainly appeared more than this many target durations after the previous one. */
export const LATE_FACTOR = 1.5;

/** What one playlist poll tells a client. */
export interface FollowStep {
  /** URIs of the segments to fetch now, oldest first. */
  fetch: string[];
  /** The first new segment certainly appeared more than LATE_FACTOR x target after the previous one. */
  late: boolean;
  /** Segments that left the playlist before this client saw them. */
  skipped: number;
  /** Certain gap (ms) between the previous segment's appearance and this one's; null without one. */
  gapMs: number | null;
}

/**
 * Which segments a live HLS client fetches, and whether they came late; no I/O, times are given.
 * The first playlist yields its newest segment (start at the live edge); later ones yield every
 * segment newer than the newest seen. When a segment appeared is known only between polls: it
 * was absent from a poll sent at `missSendAt` and present in one received at `recvAt`. So the
 * gap between two segments is at least (last poll sent without segment k+1) - (poll received
 * with segment k), and a segment is late when that lower bound exceeds LATE_FACTOR x target.
 * The poll interval is never counted as lateness; a gap shorter than the bound plus one poll
 * interval can go unseen.
 */
export class PlaylistFollower {
  /** Number of the newest segment seen, -1 before any. */
  newestMsn = -1;
  private hitRecvAt = 0;
  private missSendAt = 0;

  update(pl: MediaPlaylist, sentAt: number, recvAt: number): FollowStep {
    const none: FollowStep = { fetch: [], late: false, skipped: 0, gapMs: null };
    if (pl.uris.length === 0) return none;
    const newest = pl.mediaSequence + pl.uris.length - 1;
    if (newest <= this.newestMsn) {
      this.missSendAt = sentAt;
      return none;
    }
    const first = this.newestMsn < 0;
    let step: FollowStep;
    if (first) {
      step = { ...none, fetch: [pl.uris[pl.uris.length - 1]!] };
    } else {
      const gapMs = Math.max(0, this.missSendAt - this.hitRecvAt);
      const from = Math.max(this.newestMsn + 1, pl.mediaSequence);
      step = {
        fetch: pl.uris.slice(from - pl.mediaSequence),
        late: gapMs > LATE_FACTOR * pl.targetDurationS * 1000,
        skipped: from - (this.newestMsn + 1),
        gapMs,
      };
    }
    this.newestMsn = newest;
    this.hitRecvAt = recvAt;
    // The poll that listed segment k did not list k+1: the first "miss" for k+1.
    this.missSendAt = sentAt;
    return step;
  }
}
