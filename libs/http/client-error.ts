import type { Duplex } from 'node:stream';

/**
 * How often Node checks requests against `headersTimeout` / `requestTimeout`. Node's default is
 * 30 s, so a client trickling an endless header would hold its connection up to 30 s past the
 * timeout; at 1 s the timeouts mean what they say.
 */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

/**
 * How long a refused client gets to read the answer and close before its socket is destroyed. A
 * peer that ignores our FIN would otherwise hold the socket (and its descriptor) forever.
 */
const LINGER_MS = 1000;

/**
 * Answers an HTTP request Node's parser refused (`clientError`) as Node's default handler would:
 * 431 for oversized headers (Node's 16 KiB limit), 408 for headers not finished within
 * `headersTimeout`, 400 otherwise; then closes (endRaw). Returns the error code to count and log,
 * or null when the peer is gone (a reset is not worth a line).
 */
export function answerClientError(err: Error, socket: Duplex): string | null {
  const code = (err as NodeJS.ErrnoException).code ?? 'HTTP_BAD_REQUEST';
  if (code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return null;
  }
  const status =
    code === 'HPE_HEADER_OVERFLOW'
      ? '431 Request Header Fields Too Large'
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : '400 Bad Request';
  endRaw(socket, `HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
  return code;
}

/** Writes a raw response and closes: FIN now, destroyed after LINGER_MS whatever the peer does. */
export function endRaw(socket: Duplex, response: string): void {
  socket.end(response);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
