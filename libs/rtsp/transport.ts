import { RtspErrorCode, quoteForError, rtspError } from './errors.ts';
import { splitOutsideQuotes, splitParam } from './split.ts';

/** One transport-spec of a Transport header (RFC 2326 §12.39). */
export interface RtspTransport {
  /** RTP/AVP and RTP/AVP/UDP are UDP; RTP/AVP/TCP is interleaved on the RTSP connection. */
  protocol: 'udp' | 'tcp';
  multicast: boolean;
  /** RTP and RTCP channel of '$' frames (§10.12). */
  interleaved?: [number, number];
  clientPort?: [number, number];
  serverPort?: [number, number];
  mode?: 'play' | 'record';
  ssrc?: number;
  destination?: string;
  source?: string;
}

/** More alternatives than any client offers; bounds the work on a hostile header. */
const MAX_ALTERNATIVES = 16;

/**
 * Parses the comma-separated alternatives of a Transport header, in the client's order of
 * preference. Alternatives of other profiles (RTP/SAVP, x-real-rdt...) are skipped so the
 * server can pick one it knows; ProtocolError 'RTSP_BAD_TRANSPORT' when none is usable or a
 * parameter we rely on is malformed. Unknown parameters (ttl, append, layers...) are ignored.
 */
export function parseTransports(value: string): RtspTransport[] {
  const specs = splitOutsideQuotes(value, ',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length > MAX_ALTERNATIVES) throw bad(`more than ${MAX_ALTERNATIVES} alternatives`, value);
  const out: RtspTransport[] = [];
  for (const spec of specs) {
    const t = parseOne(spec);
    if (t) out.push(t);
  }
  if (out.length === 0) throw bad('no RTP/AVP transport', value);
  return out;
}

function parseOne(spec: string): RtspTransport | null {
  const [profile = '', ...params] = splitOutsideQuotes(spec, ';');
  // transport-protocol/profile[/lower-transport], case-insensitive in practice
  const p = profile.trim().toUpperCase();
  let protocol: 'udp' | 'tcp';
  if (p === 'RTP/AVP' || p === 'RTP/AVP/UDP') protocol = 'udp';
  else if (p === 'RTP/AVP/TCP') protocol = 'tcp';
  else return null;
  const t: RtspTransport = { protocol, multicast: false };
  for (const raw of params) {
    if (raw.trim() === '') continue;
    const { key, value } = splitParam(raw);
    switch (key) {
      case 'unicast':
        t.multicast = false;
        break;
      case 'multicast':
        t.multicast = true;
        break;
      case 'interleaved':
        t.interleaved = pair(value, 255, spec);
        break;
      case 'client_port':
        t.clientPort = pair(value, 65535, spec);
        break;
      case 'server_port':
        t.serverPort = pair(value, 65535, spec);
        break;
      case 'mode': {
        // §12.39: mode = <"> *Method <"> | Method; "receive" is RFC 2326's old name for record.
        const m = (value ?? '').trim().toLowerCase();
        if (m === 'play') t.mode = 'play';
        else if (m === 'record' || m === 'receive') t.mode = 'record';
        else throw bad(`mode ${quoteForError(m)}`, spec);
        break;
      }
      case 'ssrc': {
        // 8 hex digits; some servers drop leading zeros.
        if (value === null || !/^[0-9A-Fa-f]{1,8}$/.test(value.trim())) throw bad('ssrc', spec);
        t.ssrc = parseInt(value.trim(), 16);
        break;
      }
      case 'destination':
        if (value !== null && value.trim() !== '') t.destination = value.trim();
        break;
      case 'source':
        if (value !== null && value.trim() !== '') t.source = value.trim();
        break;
      default:
        break;
    }
  }
  return t;
}

/** `a-b` or a lone `a` (then b = a + 1, as ffmpeg and gortsplib read it). */
function pair(value: string | null, max: number, spec: string): [number, number] {
  const m = /^\s*(\d{1,5})(?:\s*-\s*(\d{1,5}))?\s*$/.exec(value ?? '');
  if (!m) throw bad('port or channel pair', spec);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  if (a > max || b > max) throw bad(`value over ${max}`, spec);
  return [a, b];
}

function bad(what: string, value: string): Error {
  return rtspError(RtspErrorCode.BadTransport, `Transport: ${what} in ${quoteForError(value)}`);
}

/** One transport-spec, as a server answers SETUP (or a client offers it). */
export function formatTransport(t: RtspTransport): string {
  const parts = [t.protocol === 'tcp' ? 'RTP/AVP/TCP' : 'RTP/AVP', t.multicast ? 'multicast' : 'unicast'];
  if (t.destination !== undefined) parts.push(`destination=${t.destination}`);
  if (t.source !== undefined) parts.push(`source=${t.source}`);
  if (t.interleaved) parts.push(`interleaved=${t.interleaved[0]}-${t.interleaved[1]}`);
  if (t.clientPort) parts.push(`client_port=${t.clientPort[0]}-${t.clientPort[1]}`);
  if (t.serverPort) parts.push(`server_port=${t.serverPort[0]}-${t.serverPort[1]}`);
  if (t.ssrc !== undefined) parts.push(`ssrc=${(t.ssrc >>> 0).toString(16).toUpperCase().padStart(8, '0')}`);
  if (t.mode !== undefined) parts.push(`mode=${t.mode}`);
  return parts.join(';');
}
