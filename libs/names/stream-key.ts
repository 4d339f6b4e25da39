/**
 * The stream-key rules every role shares (RTMP names, media paths, registry keys, scheduler
 * paths, event schemas). App and stream names become keys, log fields, Redis keys, NATS
 * payloads and later file and URL paths, so they use a safe alphabet: letters, digits and
 * `_ . - ~`; the app may have `/` segments. No empty, `.` or `..` segments (path traversal),
 * at most 128 bytes each, and a key of at most MAX_KEY_LENGTH.
 */
const SEGMENT = /^[A-Za-z0-9_.~-]{1,128}$/;

/** Longest key `app[/more]/name`: fits Redis hash tags and the event schemas' 1024 with room. */
export const MAX_KEY_LENGTH = 512;

export function validSegment(s: string): boolean {
  return SEGMENT.test(s) && s !== '.' && s !== '..';
}

/** `app[/more]/name`: at least two valid segments, at most MAX_KEY_LENGTH characters. */
export function isStreamKey(key: string): boolean {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) return false;
  const segments = key.split('/');
  return segments.length >= 2 && segments.every(validSegment);
}

/** Splits `path?query`; `__proto__` never becomes a query key. */
export function splitQuery(s: string): { path: string; query: Record<string, string> } {
  const q = s.indexOf('?');
  if (q < 0) return { path: s, query: {} };
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(s.slice(q + 1))) {
    if (k !== '__proto__') query[k] = v;
  }
  return { path: s.slice(0, q), query };
}
