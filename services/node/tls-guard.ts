import type { Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Counters } from '../../libs/metrics/counters.ts';

/** Why a TLS handshake failed: the `reason` label of sluice_tls_handshake_failures_total. */
export const TlsFailure = {
  /** Plain HTTP on a TLS port (OpenSSL recognises GET, POST, HEAD, PUT and CONNECT). */
  PlainHttp: 'plain_http',
  /** Bytes that are no TLS record at all: plain RTMP, a scanner, another protocol. */
  NotTls: 'not_tls',
  /** Not finished within limits.handshakeTimeoutMs. */
  Timeout: 'timeout',
  /** TLS, but no agreement: version, ciphers, or the client refused our certificate. */
  Handshake: 'handshake',
} as const;
export type TlsFailure = (typeof TlsFailure)[keyof typeof TlsFailure];

/** OpenSSL's answers to a first record that is not TLS (Node's `ERR_SSL_<reason>` codes). */
const NOT_TLS = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_UNKNOWN_PROTOCOL',
  'ERR_SSL_RECORD_LAYER_FAILURE',
]);

/** The failure of a handshake by its error code; null when the peer only went away (not worth a line). */
export function classifyTlsFailure(code: string | undefined): TlsFailure | null {
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return null;
    case 'ERR_TLS_HANDSHAKE_TIMEOUT':
      return TlsFailure.Timeout;
    case 'ERR_SSL_HTTP_REQUEST':
    case 'ERR_SSL_HTTPS_PROXY_REQUEST':
      return TlsFailure.PlainHttp;
    default:
      return code !== undefined && NOT_TLS.has(code) ? TlsFailure.NotTls : TlsFailure.Handshake;
  }
}

export interface TlsGuardDeps {
  /** The listener's protocol label: rtmps, https. */
  proto: string;
  log: Logger;
  counters: Counters;
}

/**
 * Watches a TLS server: a failed handshake is closed, counted by reason and logged once with its
 * error code (never the OpenSSL text, never key material), and every accepted TCP connection is
 * tracked until it closes, so shutdown can end those still in their handshake (they belong to no
 * session yet). Node bounds the handshake itself (the server's `handshakeTimeout`) but leaves a
 * timed-out socket open when the server listens for `tlsClientError`: it is destroyed here.
 */
export class TlsGuard {
  private readonly sockets = new Set<Socket>();

  constructor(server: TlsServer, deps: TlsGuardDeps) {
    const log = deps.log.child({ component: deps.proto });
    server.on('connection', (raw: Socket) => {
      this.sockets.add(raw);
      raw.once('close', () => this.sockets.delete(raw));
    });
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
      socket.destroy();
      const code = (err as NodeJS.ErrnoException).code;
      const reason = classifyTlsFailure(code);
      if (reason === null) return;
      deps.counters.inc('tls_handshake_failures', 1, { proto: deps.proto, reason });
      log.warn({ remote, reason, code }, 'tls handshake failed, connection closed');
    });
  }

  /** TCP connections open on this server (in handshake or in a session). */
  get size(): number {
    return this.sockets.size;
  }

  /** Destroys every connection of this server, sessions and handshakes alike. */
  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
  }
}
