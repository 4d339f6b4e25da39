import type { MediaPath } from '../../libs/http/media-path.ts';

/** Segment URIs are `<name>.hls/<timeline>-<seq>.ts`, relative to the playlist `/app/<name>.m3u8`. */
export const SEGMENT_DIR_SUFFIX = '.hls';

/** The stream key and file of a segment path (`app/name.hls` + `e7-12`), or null. */
export function segmentOf(mp: MediaPath): { key: string; file: string } | null {
  if (mp.ext !== 'ts') return null;
  const slash = mp.app.lastIndexOf('/');
  const dir = mp.app.slice(slash + 1);
  if (!dir.endsWith(SEGMENT_DIR_SUFFIX) || dir.length === SEGMENT_DIR_SUFFIX.length) return null;
  const app = mp.app.slice(0, Math.max(0, slash));
  if (!app) return null;
  return { key: `${app}/${dir.slice(0, -SEGMENT_DIR_SUFFIX.length)}`, file: `${mp.name}.ts` };
}
