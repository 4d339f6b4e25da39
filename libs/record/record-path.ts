import { isAbsolute, relative, resolve } from 'node:path';
import { isStreamKey } from '../names/stream-key.ts';

/** A recording path that would not be a plain file under the configured directory. */
export class RecordPathError extends Error {
  override readonly name = 'RecordPathError';
  readonly code = 'RECORD_BAD_PATH';
}

/** `YYYYMMDD-HHMMSS` in UTC. */
export function utcStamp(at: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return (
    `${at.getUTCFullYear()}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}-` +
    `${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}`
  );
}

/** The last 8 letters and digits of a session id (`rtmp-1a2b3c4d` -> `1a2b3c4d`): unique enough per second. */
export function shortId(sessionId: string): string {
  const s = sessionId.replace(/[^A-Za-z0-9]/g, '').slice(-8);
  return s || 'x';
}

/**
 * `<dir>/<app...>/<name>/<name>-<YYYYMMDD-HHMMSS>-<id>.<ext>`, absolute. The key must be a valid
 * stream key (libs/names: a safe alphabet, no `.` or `..` segment), which the RTMP and HTTP
 * parsers have already enforced; it is checked again here, and so is the result, which must lie
 * strictly inside `dir`, because this string becomes a path we create.
 */
export function recordFilePath(dir: string, key: string, at: Date, sessionId: string, ext: string): string {
  if (!isStreamKey(key)) throw new RecordPathError(`not a stream key: ${JSON.stringify(key)}`);
  const segments = key.split('/');
  const name = segments[segments.length - 1]!;
  const root = resolve(dir);
  const file = resolve(root, ...segments, `${name}-${utcStamp(at)}-${shortId(sessionId)}.${ext}`);
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new RecordPathError(`${JSON.stringify(key)} does not stay inside ${root}`);
  }
  return file;
}
