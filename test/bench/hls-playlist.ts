import { ProtocolError } from '../../libs/errors/protocol-error.ts';

/** What an HLS bench client needs from a media playlist (RFC 8216 §4.3). */
export interface MediaPlaylist {
  /** EXT-X-TARGETDURATION, seconds. */
  targetDurationS: number;
  /** EXT-X-MEDIA-SEQUENCE: the number of the first listed segment (§4.3.3.2, 0 when absent). */
  mediaSequence: number;
  /** Segment URIs as written, oldest first; the i-th has number mediaSequence + i. */
  uris: string[];
  ended: boolean;
}

/** A playlist is small; one bigger than this is not what the bench asked for. */
export const MAX_PLAYLIST_BYTES = 256 * 1024;

const bad = (message: string): ProtocolError => new ProtocolError('HLS_BAD_PLAYLIST', message);

/**
 * Parses a media playlist's lines: the tags above, and every other non-blank line that does not
 * start with `#` is a segment URI. Raises ProtocolError HLS_BAD_PLAYLIST without #EXTM3U or
 * EXT-X-TARGETDURATION, or on a non-numeric value; other tags are ignored.
 */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  if (text.length > MAX_PLAYLIST_BYTES) throw bad(`playlist of ${text.length} bytes`);
  const lines = text.split('\n');
  if (lines[0]?.trim() !== '#EXTM3U') throw bad('playlist does not start with #EXTM3U');
  const p: MediaPlaylist = { targetDurationS: -1, mediaSequence: 0, uris: [], ended: false };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (line.charCodeAt(0) !== 0x23 /* # */) {
      p.uris.push(line);
    } else if (line.startsWith('#EXT-X-TARGETDURATION:')) {
      p.targetDurationS = decimal(line, 'EXT-X-TARGETDURATION');
    } else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) {
      p.mediaSequence = decimal(line, 'EXT-X-MEDIA-SEQUENCE');
    } else if (line === '#EXT-X-ENDLIST') {
      p.ended = true;
    }
  }
  if (p.targetDurationS < 0) throw bad('playlist has no EXT-X-TARGETDURATION');
  if (p.targetDurationS === 0) throw bad('EXT-X-TARGETDURATION is 0');
  return p;
}

/** §4.2 decimal-integer: digits only, at most 2^53 here. */
function decimal(line: string, tag: string): number {
  const v = line.slice(line.indexOf(':') + 1);
  if (!/^\d{1,15}$/.test(v)) throw bad(`${tag} is not a decimal integer: ${v.slice(0, 40)}`);
  return Number(v);
}
