/**
 * Media playlist text (RFC 8216 §4.3). Version 3: decimal EXTINF durations (§7). The URIs are
 * relative names, so a playlist resolves its segments beside itself wherever it is served from.
 */

/** One segment as a playlist lists it. */
export interface PlaylistEntry {
  readonly seq: number;
  readonly name: string;
  readonly durationMs: number;
  readonly discontinuity: boolean;
}

export interface LivePlaylistState {
  readonly targetDurationS: number;
  readonly mediaSequence: number;
  readonly discontinuitySequence: number;
  readonly entries: readonly PlaylistEntry[];
  readonly ended: boolean;
  /** Put before each segment name to make its URI (a directory relative to the playlist). */
  readonly uriPrefix?: string;
}

/** `#EXTINF` seconds with 3 decimals, exact for integer milliseconds (no float rounding). */
export function formatSeconds(durationMs: number): string {
  const ms = Math.max(0, Math.round(durationMs));
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}`;
}

/**
 * §4.3.3.1: each EXTINF "rounded to the nearest integer" must be at most the target duration.
 * Rounding (halves up), not ceil: ms jitter (a 30 fps GOP of 2.002 s, the estimated end of a
 * last segment) would otherwise raise a 2 s target to 3, and players keep three target
 * durations of latency.
 */
export function targetDurationFor(durationMs: number): number {
  return Math.max(1, Math.round(durationMs / 1000));
}

/** The lines of one segment: optional EXT-X-DISCONTINUITY (§4.3.2.3), EXTINF (§4.3.2.1), URI. */
export function entryLines(e: PlaylistEntry, uriPrefix = ''): string {
  const disc = e.discontinuity ? '#EXT-X-DISCONTINUITY\n' : '';
  return `${disc}#EXTINF:${formatSeconds(e.durationMs)},\n${uriPrefix}${e.name}\n`;
}

/**
 * A live (sliding window) playlist. EXT-X-DISCONTINUITY-SEQUENCE is always written: §6.2.1 requires
 * it once a segment carrying EXT-X-DISCONTINUITY has left the window, and 0 is its implied value.
 */
export function renderLivePlaylist(p: LivePlaylistState): string {
  let out =
    '#EXTM3U\n#EXT-X-VERSION:3\n' +
    `#EXT-X-TARGETDURATION:${p.targetDurationS}\n` +
    `#EXT-X-MEDIA-SEQUENCE:${p.mediaSequence}\n` +
    `#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}\n`;
  for (const e of p.entries) out += entryLines(e, p.uriPrefix);
  if (p.ended) out += '#EXT-X-ENDLIST\n';
  return out;
}

/** The header of an EVENT playlist (§4.3.3.5: segments are only ever appended to it). */
export function renderEventHeader(targetDurationS: number, mediaSequence: number): string {
  return (
    '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:EVENT\n' +
    `#EXT-X-TARGETDURATION:${targetDurationS}\n` +
    `#EXT-X-MEDIA-SEQUENCE:${mediaSequence}\n`
  );
}
