import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createRequire } from 'node:module';
import type * as Nats from 'nats';
import type { ConnectionOptions, TlsOptions } from 'nats';
import { NatsUrlError, parseNatsUrl, type NatsTarget } from './nats-url.ts';

/** How a node reaches NATS: the URL and the optional security files (paths; '' or absent = none). */
export interface NatsSettings {
  natsUrl: string;
  /** A NATS `.creds` file: user JWT + nkey seed (operator/decentralized auth). */
  natsCredsFile?: string;
  /** PEM CA bundle that verifies the server (instead of the system's CAs); implies TLS. */
  natsCaFile?: string;
  /** PEM client certificate and its key, for servers that verify clients (mutual TLS); imply TLS. */
  natsCertFile?: string;
  natsKeyFile?: string;
}

export type NatsSettingKey = keyof NatsSettings;

/** A setting that cannot be used; `key` names it. Messages never hold secrets or file contents. */
export class NatsSettingsError extends Error {
  override readonly name = 'NatsSettingsError';
  readonly code = 'NATS_SETTINGS_INVALID';
  readonly key: NatsSettingKey;
  constructor(key: NatsSettingKey, message: string, options?: ErrorOptions) {
    super(message, options);
    this.key = key;
  }
}

/** The file contents one connection attempt uses (read again at every attempt, so rotated files apply). */
interface NatsFiles {
  creds?: string;
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * Checks everything that can be checked before connecting: the URL parses, every file is
 * readable and holds what it should, cert and key come together, and credentials are given
 * one way only. Throws NatsSettingsError naming the first bad setting.
 */
export function checkNatsSettings(s: NatsSettings): NatsTarget {
  let target: NatsTarget;
  try {
    target = parseNatsUrl(s.natsUrl);
  } catch (e) {
    if (e instanceof NatsUrlError) throw new NatsSettingsError('natsUrl', e.message);
    throw e;
  }
  if (s.natsCredsFile && target.auth) {
    throw new NatsSettingsError(
      'natsCredsFile',
      'a creds file and credentials in the NATS URL exclude each other; use one',
    );
  }
  if (!!s.natsCertFile !== !!s.natsKeyFile) {
    const missing = s.natsCertFile ? 'natsKeyFile' : 'natsCertFile';
    throw new NatsSettingsError(missing, 'a client certificate needs both a certificate and its key file');
  }
  validateFiles(s, readNatsFiles(s));
  return target;
}

/** Reads every configured file; an unreadable one is a NatsSettingsError naming its setting. */
export function readNatsFiles(s: NatsSettings): NatsFiles {
  const files: NatsFiles = {};
  const read = (key: NatsSettingKey, path: string | undefined): string | undefined => {
    if (!path) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new NatsSettingsError(key, `cannot read ${path} (${why})`, { cause: e });
    }
  };
  const creds = read('natsCredsFile', s.natsCredsFile);
  const ca = read('natsCaFile', s.natsCaFile);
  const cert = read('natsCertFile', s.natsCertFile);
  const key = read('natsKeyFile', s.natsKeyFile);
  if (creds !== undefined) files.creds = creds;
  if (ca !== undefined) files.ca = ca;
  if (cert !== undefined) files.cert = cert;
  if (key !== undefined) files.key = key;
  return files;
}

function validateFiles(s: NatsSettings, f: NatsFiles): void {
  if (f.creds !== undefined) checkCreds(s.natsCredsFile!, f.creds);
  const pem = (
    key: NatsSettingKey,
    path: string | undefined,
    text: string | undefined,
    check: () => void,
  ): void => {
    if (text === undefined) return;
    try {
      check();
    } catch (e) {
      throw new NatsSettingsError(key, `${path} is not ${what[key]}`, { cause: e });
    }
  };
  pem('natsCaFile', s.natsCaFile, f.ca, () => new X509Certificate(f.ca!));
  pem('natsCertFile', s.natsCertFile, f.cert, () => new X509Certificate(f.cert!));
  pem('natsKeyFile', s.natsKeyFile, f.key, () => createPrivateKey(f.key!));
}

/** A creds file is nsc's format: a user JWT section, then the user's nkey seed, which must sign. */
function checkCreds(path: string, text: string): void {
  const bad = (cause?: unknown): NatsSettingsError =>
    new NatsSettingsError('natsCredsFile', `${path} is not a NATS creds file (user JWT + nkey seed)`, {
      cause,
    });
  if (!/-----BEGIN NATS USER JWT-----[\s\S]*-----BEGIN USER NKEY SEED-----/.test(text)) throw bad();
  try {
    credsAuthenticator(new TextEncoder().encode(text))('startup-check');
  } catch (e) {
    throw bad(e);
  }
}

/**
 * nats.js's credentials parser, loaded on first use: this file is part of every role's config
 * checks, and standalone, which has no NATS, should not carry the client in memory.
 */
const credsAuthenticator = (creds: Uint8Array): ReturnType<typeof Nats.credsAuthenticator> =>
  (createRequire(import.meta.url)('nats') as typeof Nats).credsAuthenticator(creds);

const what: Partial<Record<NatsSettingKey, string>> = {
  natsCaFile: 'a PEM certificate (bundle)',
  natsCertFile: 'a PEM certificate',
  natsKeyFile: 'an unencrypted PEM private key',
};

/**
 * The nats.js options of one connection attempt to `server` (`host:port`). Files are read now:
 * an operator may rotate them while the node runs, and the next attempt picks them up.
 */
export function natsAuthOptions(
  target: NatsTarget,
  s: NatsSettings,
  server: string,
): Partial<ConnectionOptions> {
  const f = readNatsFiles(s);
  const opts: Partial<ConnectionOptions> = {};
  if (target.auth && 'token' in target.auth) opts.token = target.auth.token;
  else if (target.auth) Object.assign(opts, { user: target.auth.user, pass: target.auth.pass });
  if (f.creds !== undefined) opts.authenticator = credsAuthenticator(new TextEncoder().encode(f.creds));
  if (target.tls || f.ca !== undefined || f.cert !== undefined) {
    // A `tls` object makes nats.js refuse a server that does not offer TLS.
    const tls: TlsOptions & { host?: string } = {};
    // nats.js v2 names no host for an IP literal, so Node would check the certificate against
    // "localhost"; nats.js passes this object on to tls.connect, where `host` fixes that.
    const host = hostOf(server);
    if (isIP(host)) tls.host = host;
    if (f.ca !== undefined) tls.ca = f.ca;
    if (f.cert !== undefined) tls.cert = f.cert;
    if (f.key !== undefined) tls.key = f.key;
    opts.tls = tls;
  }
  return opts;
}

/** `host` of `host:port` or `[v6]:port`, brackets removed. */
function hostOf(server: string): string {
  const host = server.slice(0, server.lastIndexOf(':'));
  return host.startsWith('[') ? host.slice(1, -1) : host;
}
