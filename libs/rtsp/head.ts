import { RtspErrorCode, quoteForError, rtspError } from './errors.ts';
import { RtspHeaders } from './message.ts';

/** A parsed start line and header block, before the body. */
export type RtspHead =
  | { kind: 'request'; method: string; uri: string; headers: RtspHeaders }
  | { kind: 'response'; status: number; reason: string; headers: RtspHeaders };

/** RFC 2326 §15.1 token: what a method or header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters other than HTAB never belong in a header value (and must not be echoed). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** Only RTSP/1.0 is spoken here (RFC 2326 §3.1); RTSP/2.0 (RFC 7826) is a different protocol. */
const VERSION = 'RTSP/1.0';

/**
 * Parses a start line and headers (RFC 2326 §6, §7): `text` is everything before the blank
 * line, lines ended by CRLF or a bare LF (tolerated, as most servers do). Header lines that
 * start with a space or tab continue the previous one (§4.2 LWS folding).
 */
export function parseHead(text: string, maxHeaderCount: number): RtspHead {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const start = lines[0] ?? '';
  const headers = parseHeaderLines(lines, maxHeaderCount);
  if (start.startsWith('RTSP/')) {
    // Status-Line = RTSP-Version SP Status-Code SP Reason-Phrase (§7.1)
    const m = /^(RTSP\/\d+\.\d+) ([1-5]\d\d)(?: (.*))?$/.exec(start);
    if (!m) throw rtspError(RtspErrorCode.BadStartLine, `bad status line ${quoteForError(start)}`);
    checkVersion(m[1]!);
    const reason = m[3] ?? '';
    if (CONTROL.test(reason)) throw rtspError(RtspErrorCode.BadStartLine, 'control character in reason');
    return { kind: 'response', status: Number(m[2]), reason, headers };
  }
  // Request-Line = Method SP Request-URI SP RTSP-Version (§6.1)
  const parts = start.split(' ');
  const [method, uri, version] = parts;
  if (
    parts.length !== 3 ||
    method === undefined ||
    uri === undefined ||
    version === undefined ||
    !TOKEN.test(method) ||
    uri === '' ||
    CONTROL.test(uri) ||
    uri.includes('\t')
  ) {
    throw rtspError(RtspErrorCode.BadStartLine, `bad request line ${quoteForError(start)}`);
  }
  if (!/^[A-Z]{1,8}\/\d+\.\d+$/.test(version)) {
    throw rtspError(RtspErrorCode.BadStartLine, `bad request line ${quoteForError(start)}`);
  }
  checkVersion(version);
  return { kind: 'request', method, uri, headers };
}

function checkVersion(v: string): void {
  if (v !== VERSION) throw rtspError(RtspErrorCode.BadVersion, `unsupported version ${quoteForError(v)}`);
}

function parseHeaderLines(lines: string[], maxHeaderCount: number): RtspHeaders {
  const pairs: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue; // only possible as the last line (the caller cut at the blank line)
    if (line[0] === ' ' || line[0] === '\t') {
      const last = pairs[pairs.length - 1];
      if (!last) throw rtspError(RtspErrorCode.BadHeader, 'continuation line before any header');
      last[1] = `${last[1]} ${line.trim()}`.trim();
      if (CONTROL.test(last[1])) throw rtspError(RtspErrorCode.BadHeader, 'control character in header');
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trimEnd();
    if (!TOKEN.test(name)) throw rtspError(RtspErrorCode.BadHeader, `bad header line ${quoteForError(line)}`);
    const value = line.slice(colon + 1).trim();
    if (CONTROL.test(value)) throw rtspError(RtspErrorCode.BadHeader, `control character in ${name}`);
    if (pairs.length >= maxHeaderCount) {
      throw rtspError(RtspErrorCode.TooManyHeaders, `more than ${maxHeaderCount} headers`);
    }
    pairs.push([name, value]);
  }
  return new RtspHeaders(pairs);
}

/**
 * The body length (RFC 2326 §12.14): 0 without Content-Length (RTSP has no close-delimited
 * bodies); digits only; repeated values must agree.
 */
export function contentLength(headers: RtspHeaders, maxBodyBytes: number): number {
  const values = headers.getAll('Content-Length');
  if (values.length === 0) return 0;
  const first = values[0]!;
  if (!/^\d{1,10}$/.test(first) || values.some((v) => v !== first)) {
    throw rtspError(RtspErrorCode.BadContentLength, `bad Content-Length ${quoteForError(values.join(', '))}`);
  }
  const n = Number(first);
  if (n > maxBodyBytes)
    throw rtspError(RtspErrorCode.BodyTooLarge, `body of ${n} bytes over ${maxBodyBytes}`);
  return n;
}
