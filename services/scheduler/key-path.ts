import { parseMediaPath } from '../../libs/http/media-path.ts';
import { MAX_KEY_LENGTH, validSegment } from '../../libs/names/stream-key.ts';
import { PLAY_EXTENSIONS, type PlayProtocol } from './urls.ts';

/**
 * Stream keys in scheduler paths, held to the same alphabet as RTMP names and media paths
 * (libs/names/stream-key.ts): `{app...}/{name}`, each segment percent-decoded and checked, so a
 * key that reaches the registry or a Location header is always one a node could serve.
 */

/** Longest path tail accepted, like libs/http/media-path.ts. */
const MAX_PATH = 1024;
/** Longest key the registry accepts. */
export const MAX_KEY = MAX_KEY_LENGTH;

/** `app[/more]/name` (no extension, query already removed) -> key, or null when malformed. */
export function parseKeyPath(tail: string): string | null {
  if (tail.length === 0 || tail.length > MAX_PATH) return null;
  let segments: string[];
  try {
    segments = tail.split('/').map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
  if (segments.length < 2 || !segments.every(validSegment)) return null;
  const key = segments.join('/');
  return key.length <= MAX_KEY ? key : null;
}

export interface PlayPath {
  key: string;
  protocol: PlayProtocol;
  /** The query re-encoded with `?` ('' when none), passed on to the edge (auth tokens). */
  search: string;
}

export type PlayPathResult = PlayPath | { error: 'bad-path' | 'bad-extension' };

/** `/play/app[/more]/name.(flv|ts|m3u8)[?query]` with the `/play` prefix removed. */
export function parsePlayPath(pathAndQuery: string): PlayPathResult {
  const m = parseMediaPath(pathAndQuery);
  if (!m || m.key.length > MAX_KEY) return { error: 'bad-path' };
  const protocol = PLAY_EXTENSIONS[m.ext];
  if (!protocol || !Object.hasOwn(PLAY_EXTENSIONS, m.ext)) return { error: 'bad-extension' };
  // Re-encoded rather than copied so nothing odd from the request line reaches the Location header.
  const query = new URLSearchParams(m.query).toString();
  return { key: m.key, protocol, search: query ? `?${query}` : '' };
}
