import type { RtspHeaders } from './message.ts';

/** Reason phrases of RFC 2326 §7.1.1 (and the 4xx/5xx RTSP adds to HTTP). */
const REASONS: ReadonlyMap<number, string> = new Map([
  [100, 'Continue'],
  [200, 'OK'],
  [201, 'Created'],
  [250, 'Low on Storage Space'],
  [300, 'Multiple Choices'],
  [301, 'Moved Permanently'],
  [302, 'Moved Temporarily'],
  [303, 'See Other'],
  [304, 'Not Modified'],
  [305, 'Use Proxy'],
  [400, 'Bad Request'],
  [401, 'Unauthorized'],
  [402, 'Payment Required'],
  [403, 'Forbidden'],
  [404, 'Not Found'],
  [405, 'Method Not Allowed'],
  [406, 'Not Acceptable'],
  [407, 'Proxy Authentication Required'],
  [408, 'Request Time-out'],
  [410, 'Gone'],
  [411, 'Length Required'],
  [412, 'Precondition Failed'],
  [413, 'Request Entity Too Large'],
  [414, 'Request-URI Too Large'],
  [415, 'Unsupported Media Type'],
  [451, 'Parameter Not Understood'],
  [452, 'Conference Not Found'],
  [453, 'Not Enough Bandwidth'],
  [454, 'Session Not Found'],
  [455, 'Method Not Valid in This State'],
  [456, 'Header Field Not Valid for Resource'],
  [457, 'Invalid Range'],
  [458, 'Parameter Is Read-Only'],
  [459, 'Aggregate operation not allowed'],
  [460, 'Only aggregate operation allowed'],
  [461, 'Unsupported transport'],
  [462, 'Destination unreachable'],
  [500, 'Internal Server Error'],
  [501, 'Not Implemented'],
  [502, 'Bad Gateway'],
  [503, 'Service Unavailable'],
  [504, 'Gateway Time-out'],
  [505, 'RTSP Version not supported'],
  [551, 'Option not supported'],
]);

export function statusReason(status: number): string {
  return REASONS.get(status) ?? (status >= 200 && status < 300 ? 'OK' : 'Unknown');
}

export function serializeResponse(res: {
  status: number;
  reason?: string;
  headers: RtspHeaders;
  body?: Buffer;
}): Buffer {
  if (!Number.isInteger(res.status) || res.status < 100 || res.status > 599) {
    throw new RangeError(`RTSP status ${res.status} out of range`);
  }
  const reason = res.reason ?? statusReason(res.status);
  checkText(reason, 'reason');
  return serialize(`RTSP/1.0 ${res.status} ${reason}`, res.headers, res.body);
}

export function serializeRequest(req: {
  method: string;
  uri: string;
  headers: RtspHeaders;
  body?: Buffer;
}): Buffer {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(req.method))
    throw new TypeError(`bad RTSP method ${req.method}`);
  if (req.uri === '' || /[\s]/.test(req.uri))
    throw new TypeError('RTSP request URI is empty or has white space');
  return serialize(`${req.method} ${req.uri} RTSP/1.0`, req.headers, req.body);
}

/**
 * Start line, headers, blank line, body. Content-Length is set from the body (and dropped when
 * there is none), so a caller cannot get it wrong. Values with CR/LF are refused: echoing a
 * client's string must never inject a header.
 */
function serialize(startLine: string, headers: RtspHeaders, body: Buffer | undefined): Buffer {
  let head = `${startLine}\r\n`;
  for (const [name, value] of headers.entries()) {
    if (name.toLowerCase() === 'content-length') continue;
    checkText(name, 'header name');
    checkText(value, name);
    head += `${name}: ${value}\r\n`;
  }
  if (body && body.length > 0) head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  const h = Buffer.from(head, 'utf8');
  return body && body.length > 0 ? Buffer.concat([h, body]) : h;
}

function checkText(s: string, what: string): void {
  if (/[\r\n\0]/.test(s)) throw new TypeError(`RTSP ${what} contains CR, LF or NUL`);
}
