import type { Logger } from '../log/logger.ts';
import type { Counters } from '../metrics/counters.ts';
import { NatsSettingsError } from './nats-settings.ts';

/** Why a NATS connection attempt failed: the `reason` label of `nats_connect_errors`. */
export const NatsFailure = {
  /** The server refused the credentials (wrong password/token, unknown or revoked user, expired JWT). */
  Auth: 'auth',
  /** TLS could not be set up: certificate not trusted, wrong host, no TLS on the server, client cert refused. */
  Tls: 'tls',
  /** Nothing answered (refused, reset, no route, unknown host). */
  Unreachable: 'unreachable',
  /** A server accepted TCP but did not finish the NATS handshake in time. */
  Timeout: 'timeout',
  /** A creds/CA/cert/key file became unreadable after startup. */
  Files: 'files',
  Other: 'other',
} as const;
export type NatsFailure = (typeof NatsFailure)[keyof typeof NatsFailure];

export interface ClassifiedFailure {
  reason: NatsFailure;
  /** The nats.js or Node error code, for the log. */
  code: string;
  /** A one-line cause for operators; never holds credentials. */
  cause: string;
}

const AUTH_CODES = new Set([
  'AUTHORIZATION_VIOLATION',
  'AUTHENTICATION_EXPIRED',
  'AUTHENTICATION_TIMEOUT',
  'ACCOUNT_EXPIRED',
  'BAD_AUTHENTICATION',
  'BAD_CREDS',
]);
const UNREACHABLE_CODES = new Set([
  'CONNECTION_REFUSED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const TIMEOUT_CODES = new Set(['TIMEOUT', 'CONNECTION_TIMEOUT', 'ETIMEDOUT']);
/** Node's and OpenSSL's certificate verification codes (tls.TLSSocket authorizationError). */
const TLS_CODE =
  /^(TLS|ERR_TLS_|ERR_SSL_|UNABLE_TO_|CERT_|SELF_SIGNED_|DEPTH_ZERO_|HOSTNAME_MISMATCH|INVALID_CA)/;

/** Maps a failed `connect()` (nats.js NatsError, or the Node socket/TLS error it passes on) to a reason. */
export function classifyNatsFailure(err: unknown): ClassifiedFailure {
  if (err instanceof NatsSettingsError)
    return { reason: NatsFailure.Files, code: err.code, cause: err.message };
  const e = (err ?? {}) as { code?: unknown; message?: unknown; chainedError?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  // nats.js wraps some socket/TLS errors; the inner one says what happened.
  const inner = (e.chainedError ?? null) as { code?: unknown; message?: unknown } | null;
  const innerCode = typeof inner?.code === 'string' ? inner.code : '';
  const innerMessage = typeof inner?.message === 'string' ? inner.message : '';
  const detail = innerMessage && innerMessage !== message ? `${message}: ${innerMessage}` : message;
  if (AUTH_CODES.has(code)) {
    return { reason: NatsFailure.Auth, code, cause: `the server refused the credentials (${message})` };
  }
  if (code === 'SERVER_OPT_NA' && message === 'tls') {
    const cause = 'the server does not offer TLS, which tls:// or a CA/client certificate requires';
    return { reason: NatsFailure.Tls, code, cause };
  }
  if (TLS_CODE.test(code) || TLS_CODE.test(innerCode)) {
    return { reason: NatsFailure.Tls, code: innerCode || code, cause: `TLS failed: ${detail}` };
  }
  if (UNREACHABLE_CODES.has(code) || UNREACHABLE_CODES.has(innerCode)) {
    return { reason: NatsFailure.Unreachable, code: innerCode || code, cause: detail };
  }
  if (TIMEOUT_CODES.has(code)) {
    return { reason: NatsFailure.Timeout, code, cause: 'no NATS handshake within the dial timeout' };
  }
  return { reason: NatsFailure.Other, code: code || 'UNKNOWN', cause: detail };
}

/** One line per streak of the same failure, then at most one per this interval (with a count). */
const FAILURE_LOG_INTERVAL_MS = 10_000;
/** Failures an operator has to fix get `error`; the others may heal by themselves. */
const OPERATOR_FIXES: ReadonlySet<NatsFailure> = new Set([
  NatsFailure.Auth,
  NatsFailure.Tls,
  NatsFailure.Files,
]);

/**
 * Makes NATS connection trouble visible without flooding: every failed attempt is counted
 * (`nats_connect_errors{reason}`), the first of a kind is logged at once with its cause, repeats
 * at most every 10 s with how many attempts failed meanwhile. Logs name servers as host:port only.
 */
export class NatsConnectReport {
  private readonly log: Logger;
  private readonly counters: Counters;
  private readonly servers: string[];
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();
  private current = '';
  private failedSinceUp = 0;
  private everUp = false;
  private readonly serverErrorAt = new Map<string, number>();

  constructor(log: Logger, counters: Counters, servers: string[]) {
    this.log = log;
    this.counters = counters;
    this.servers = servers;
  }

  failed(err: unknown, server: string): ClassifiedFailure {
    const f = classifyNatsFailure(err);
    this.counters.inc('nats_connect_errors', 1, { reason: f.reason });
    this.failedSinceUp++;
    // Per server and kind of failure, so servers failing in turn do not defeat the limit.
    const key = `${server} ${f.reason} ${f.code}`;
    const now = Date.now();
    const last = this.lastLogged.get(key);
    if (last && now - last.at < FAILURE_LOG_INTERVAL_MS) {
      last.suppressed++;
      return f;
    }
    this.lastLogged.set(key, { at: now, suppressed: 0 });
    const fields = {
      server,
      reason: f.reason,
      code: f.code,
      cause: f.cause,
      attempts: this.failedSinceUp,
      ...(last ? { failedSinceLastLog: last.suppressed + 1 } : {}),
    };
    if (OPERATOR_FIXES.has(f.reason)) this.log.error(fields, 'NATS connection failed; retrying');
    else this.log.warn(fields, 'NATS connection failed; retrying');
    return f;
  }

  connected(server: string): void {
    const fields = {
      server,
      servers: this.servers,
      ...(this.failedSinceUp ? { failedAttempts: this.failedSinceUp } : {}),
    };
    this.log.info(fields, this.everUp ? 'NATS reconnected' : 'NATS connected');
    this.everUp = true;
    this.current = server;
    this.failedSinceUp = 0;
    this.lastLogged.clear();
  }

  /** A live connection ended (server gone, stale pings, or the server closed it with an error). */
  lost(err: unknown, stale: boolean): void {
    this.counters.inc('nats_disconnects');
    const why = stale
      ? { cause: 'the server stopped answering pings' }
      : err
        ? { cause: classifyNatsFailure(err).cause }
        : { cause: 'the connection closed' };
    this.log.warn({ server: this.current, ...why }, 'NATS disconnected; retrying');
  }

  /** An `-ERR` on a live connection (e.g. a permissions violation): counted, logged every 10 s per code at most. */
  serverError(code: string, context?: { operation: string; subject: string }): void {
    this.counters.inc('nats_server_errors', 1, { code });
    const now = Date.now();
    if (now - (this.serverErrorAt.get(code) ?? -Infinity) < FAILURE_LOG_INTERVAL_MS) return;
    this.serverErrorAt.set(code, now);
    this.log.warn(
      { code, ...(context ? { operation: context.operation, subject: context.subject } : {}) },
      'NATS server reported an error',
    );
  }
}
