import { RtspErrorCode, quoteForError, rtspError } from './errors.ts';

export interface SdpMedia {
  /** 'video', 'audio', or another media type as sent (RFC 4566 §5.14). */
  type: string;
  port: number;
  protocol: string;
  payloadTypes: number[];
  rtpmap: Map<number, { encoding: string; clockRate: number; channels?: number }>;
  /** Parameters per payload type, names lower-cased (RFC 6184 §8.1 says they are case-insensitive). */
  fmtp: Map<number, Map<string, string>>;
  control?: string;
  /** Every a= line of the media, in order: [name, value or null for a flag]. */
  attributes: [string, string | null][];
}

export interface SdpSession {
  control?: string;
  media: SdpMedia[];
  attributes: [string, string | null][];
  /** The session-level a=range value, e.g. "npt=now-". */
  range?: string;
}

/** More tracks than any camera or encoder sends; bounds the work on a hostile body. */
export const SDP_MAX_MEDIA = 64;
/** Attributes per media or session: real SDPs have about ten. */
const MAX_ATTRIBUTES = 256;
const LINE = /^([a-z])=(.*)$/;

/**
 * Parses an SDP (RFC 4566 §5) as RTSP uses it: session attributes, then one block per m=.
 * Tolerant of LF-only line ends, trailing NULs and white space (cameras send them), spaces
 * after ';' in fmtp, and lines it does not use. ProtocolError 'RTSP_BAD_SDP' when the text
 * does not start with v=, has a line that is not `<letter>=<value>` or an m= line without
 * port, protocol and formats; 'RTSP_SDP_TOO_MANY_MEDIA' over 64 tracks.
 */
export function parseSdp(text: string): SdpSession {
  const lines = text
    .replace(/[\0\s]+$/, '')
    .split(/\r?\n/)
    .map((l) => l.trimEnd());
  if (!/^v=/.test(lines[0]?.trimStart() ?? '')) throw bad('no v= line first');
  const session: SdpSession = { media: [], attributes: [] };
  let media: SdpMedia | null = null;
  for (const raw of lines) {
    const line = raw.trimStart();
    if (line === '') continue;
    const m = LINE.exec(line);
    if (!m) throw bad(`bad line ${quoteForError(line)}`);
    const [, kind, value = ''] = m;
    if (kind === 'm') {
      if (session.media.length >= SDP_MAX_MEDIA) {
        throw rtspError(RtspErrorCode.SdpTooManyMedia, `SDP: more than ${SDP_MAX_MEDIA} media`);
      }
      media = parseMediaLine(value);
      session.media.push(media);
    } else if (kind === 'a') {
      const attrs = media ? media.attributes : session.attributes;
      if (attrs.length >= MAX_ATTRIBUTES) throw bad(`more than ${MAX_ATTRIBUTES} attributes`);
      const colon = value.indexOf(':');
      const name = colon < 0 ? value : value.slice(0, colon);
      const attrValue = colon < 0 ? null : value.slice(colon + 1);
      attrs.push([name, attrValue]);
      if (media) applyMediaAttribute(media, name.toLowerCase(), attrValue);
      else if (name.toLowerCase() === 'control' && attrValue !== null) session.control = attrValue.trim();
      else if (name.toLowerCase() === 'range' && attrValue !== null) session.range = attrValue.trim();
    }
  }
  return session;
}

/** m=<media> <port>[/<number of ports>] <proto> <fmt> ... (RFC 4566 §5.14) */
function parseMediaLine(value: string): SdpMedia {
  const parts = value.trim().split(/\s+/);
  const [type, portText, protocol, ...formats] = parts;
  const port = /^(\d{1,5})(?:\/\d+)?$/.exec(portText ?? '');
  if (type === undefined || type === '' || !port || protocol === undefined || formats.length === 0) {
    throw bad(`bad m= line ${quoteForError(value)}`);
  }
  // Non-RTP media (application with named formats) keep no numeric payload types.
  const payloadTypes = formats.filter((f) => /^\d{1,3}$/.test(f) && Number(f) <= 127).map(Number);
  return {
    type,
    port: Math.min(65535, Number(port[1])),
    protocol,
    payloadTypes,
    rtpmap: new Map(),
    fmtp: new Map(),
    attributes: [],
  };
}

function applyMediaAttribute(media: SdpMedia, name: string, value: string | null): void {
  if (value === null) return;
  if (name === 'control') {
    media.control = value.trim();
    return;
  }
  if (name !== 'rtpmap' && name !== 'fmtp') return;
  const m = /^\s*(\d{1,3})\s+(.*)$/.exec(value);
  if (!m) return; // a malformed attribute of a track is ignored; trackCodec reports what is missing
  const pt = Number(m[1]);
  if (pt > 127) return;
  const rest = m[2]!.trim();
  if (name === 'rtpmap') {
    // <encoding name>/<clock rate>[/<encoding parameters>] (RFC 4566 §6)
    const r = /^([^/\s]+)\/(\d{1,10})(?:\/(\d{1,3}))?$/.exec(rest);
    if (!r) return;
    const entry: { encoding: string; clockRate: number; channels?: number } = {
      encoding: r[1]!,
      clockRate: Number(r[2]),
    };
    if (r[3] !== undefined) entry.channels = Number(r[3]);
    media.rtpmap.set(pt, entry);
    return;
  }
  const params = media.fmtp.get(pt) ?? new Map<string, string>();
  for (const p of rest.split(';')) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    // Values keep '=' (base64 padding in sprop-parameter-sets).
    if (key !== '' && params.size < MAX_ATTRIBUTES) params.set(key, p.slice(eq + 1).trim());
  }
  media.fmtp.set(pt, params);
}

function bad(what: string): Error {
  return rtspError(RtspErrorCode.BadSdp, `SDP: ${what}`);
}
