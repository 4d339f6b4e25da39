import { MAX_KEY_LENGTH, splitQuery, validSegment } from '../names/stream-key.ts';

export interface MediaPath {
  app: string;
  name: string;
  key: string;
  ext: string;
  query: Record<string, string>;
}

/**
 * Parses `/app[/more]/name.ext?query` into a stream key. Returns null for anything that is
 * not a well-formed media path: bad percent-encoding, `.`/`..` segments, characters outside
 * the stream-name alphabet. Keys therefore never escape into file paths later (HLS on disk).
 */
export function parseMediaPath(url: string): MediaPath | null {
  const { path, query } = splitQuery(url);
  if (path.length > 1024) return null;
  let segments: string[];
  try {
    segments = path
      .split('/')
      .slice(1)
      .map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
  if (segments.length < 2) return null;
  const last = segments[segments.length - 1]!;
  const dot = last.lastIndexOf('.');
  if (dot <= 0) return null;
  const name = last.slice(0, dot);
  const ext = last.slice(dot + 1).toLowerCase();
  const appSegs = segments.slice(0, -1);
  if (!appSegs.every(validSegment) || !validSegment(name)) return null;
  const app = appSegs.join('/');
  const key = `${app}/${name}`;
  if (key.length > MAX_KEY_LENGTH) return null;
  return { app, name, key, ext, query };
}
