import type { IncomingMessage, ServerResponse } from 'node:http';

/** Request bodies above this are refused (413): every API body is a small JSON object. */
export const MAX_BODY_BYTES = 64 * 1024;

export class BodyError extends Error {
  readonly code: 'BODY_TOO_LARGE' | 'BAD_JSON';
  constructor(code: BodyError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** Reads a JSON object body (an empty body is `{}`); BodyError past MAX_BODY_BYTES or on bad JSON. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new BodyError('BODY_TOO_LARGE', `body over ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyError('BODY_TOO_LARGE', `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BodyError('BAD_JSON', 'the body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new BodyError('BAD_JSON', 'the body must be a JSON object');
  }
  return v as Record<string, unknown>;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** The /api/v1 error shape. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

export const remoteOf = (req: IncomingMessage): string =>
  `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;

/** Query parameters of a request URL. */
export function queryOf(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? '/';
  const i = url.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : url.slice(i + 1));
}
