import { RtspErrorCode, quoteForError, rtspError } from './errors.ts';
import { splitParam } from './split.ts';

export interface RtpInfoEntry {
  url: string;
  seq?: number;
  rtptime?: number;
}

/** RTP-Info (RFC 2326 §12.33): `url=...;seq=n;rtptime=n` per track, comma-separated. */
export function formatRtpInfo(entries: RtpInfoEntry[]): string {
  return entries
    .map((e) => {
      let s = `url=${e.url}`;
      if (e.seq !== undefined) s += `;seq=${e.seq}`;
      if (e.rtptime !== undefined) s += `;rtptime=${e.rtptime >>> 0}`;
      return s;
    })
    .join(',');
}

/** More tracks than any RTSP server announces. */
const MAX_ENTRIES = 64;

/**
 * Parses RTP-Info. URLs are taken up to the next ';' (a URL with ',' or ';' in it is
 * ambiguous in RFC 2326 itself; RFC 7826 quotes them, and quoted URLs are accepted too).
 * Unknown parameters are ignored. ProtocolError 'RTSP_BAD_RTP_INFO' for an entry without url or
 * an out-of-range seq (16 bits) or rtptime (32 bits).
 */
export function parseRtpInfo(value: string): RtpInfoEntry[] {
  const out: RtpInfoEntry[] = [];
  for (const raw of value.split(',')) {
    if (raw.trim() === '') continue;
    if (out.length >= MAX_ENTRIES) throw bad(`more than ${MAX_ENTRIES} entries`, value);
    const e: { url?: string; seq?: number; rtptime?: number } = {};
    for (const p of raw.split(';')) {
      const { key, value: v } = splitParam(p);
      if (key === 'url' && v !== null && v !== '') e.url = v;
      else if (key === 'seq') e.seq = number(v, 0xffff, value);
      else if (key === 'rtptime') e.rtptime = number(v, 0xffffffff, value);
    }
    if (e.url === undefined) {
      // A URL containing ',' was split: glue the piece back onto the previous entry's URL.
      const prev = out[out.length - 1];
      if (prev && !raw.includes('=')) {
        prev.url += `,${raw}`;
        continue;
      }
      throw bad('entry without url', value);
    }
    out.push({
      url: e.url,
      ...(e.seq !== undefined && { seq: e.seq }),
      ...(e.rtptime !== undefined && { rtptime: e.rtptime }),
    });
  }
  if (out.length === 0) throw bad('no entries', value);
  return out;
}

function number(v: string | null, max: number, value: string): number {
  if (v === null || !/^\d{1,10}$/.test(v.trim())) throw bad('bad number', value);
  const n = Number(v.trim());
  if (n > max) throw bad(`value over ${max}`, value);
  return n;
}

function bad(what: string, value: string): Error {
  return rtspError(RtspErrorCode.BadRtpInfo, `RTP-Info: ${what} in ${quoteForError(value)}`);
}
