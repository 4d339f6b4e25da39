import { RtspErrorCode, quoteForError, rtspError } from './errors.ts';

/**
 * A Range header (RFC 2326 §12.29, §3.6). Live streams only need to accept what players send
 * on PLAY (`npt=0-`, `npt=0.000-`, `npt=now-`); smpte= and clock= ranges are recognised and
 * left to the caller (a live server ignores them).
 */
export type RtspRange =
  { unit: 'npt'; startS: number | 'now'; endS?: number } | { unit: 'smpte' | 'clock'; value: string };

/** npt-time = "now" | npt-sec | npt-hhmmss (§3.6) */
const NPT_TIME = /^(?:now|\d{1,12}(?:\.\d{0,9})?|\d{1,9}:[0-5]?\d:[0-5]?\d(?:\.\d{0,9})?)$/;

export function parseRange(value: string): RtspRange {
  // ";time=" (the wall-clock at which to start) is optional and ignored.
  const spec = (value.split(';')[0] ?? '').trim();
  const eq = spec.indexOf('=');
  const unit = spec.slice(0, Math.max(0, eq)).trim().toLowerCase();
  const range = spec.slice(eq + 1).trim();
  if (unit === 'smpte' || unit === 'smpte-25' || unit === 'smpte-30-drop' || unit === 'clock') {
    if (!range.includes('-')) throw bad(value);
    return { unit: unit === 'clock' ? 'clock' : 'smpte', value: range };
  }
  if (unit !== 'npt') throw bad(value);
  const dash = range.indexOf('-');
  if (dash < 0) throw bad(value);
  const start = range.slice(0, dash).trim();
  const end = range.slice(dash + 1).trim();
  // npt-range = npt-time "-" [ npt-time ] | "-" npt-time
  if (start === '' && end === '') throw bad(value);
  if ((start !== '' && !NPT_TIME.test(start)) || (end !== '' && (!NPT_TIME.test(end) || end === 'now'))) {
    throw bad(value);
  }
  const startS = start === '' ? 0 : start === 'now' ? 'now' : nptSeconds(start);
  return end === '' ? { unit: 'npt', startS } : { unit: 'npt', startS, endS: nptSeconds(end) };
}

function nptSeconds(t: string): number {
  if (!t.includes(':')) return Number(t);
  const [h = '0', m = '0', s = '0'] = t.split(':');
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

function bad(value: string): Error {
  return rtspError(RtspErrorCode.BadRange, `bad Range ${quoteForError(value)}`);
}

export function formatNptRange(startS: number | 'now', endS?: number): string {
  const f = (s: number): string => (Number.isInteger(s) ? String(s) : s.toFixed(3));
  return `npt=${startS === 'now' ? 'now' : f(startS)}-${endS === undefined ? '' : f(endS)}`;
}
