import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../../libs/config/load.ts';

/** A TLS listener's settings (`rtmps`, `https`). */
export interface TlsListenerConfig {
  enabled: boolean;
  listen: string;
  certFile: string;
  keyFile: string;
}

/** What a TLS server is made with: the PEM texts as read at startup. */
export interface TlsCredentials {
  cert: string;
  key: string;
}

/**
 * Reads and checks the certificate and key of every enabled TLS listener: both files given,
 * readable, PEM that Node and OpenSSL accept, and the key the certificate's. Each problem is a
 * ConfigError naming the key and the file (never the file's contents), so a listener that is
 * on can never start without TLS, nor be skipped. Read once: certificates are not reloaded.
 */
export function readTlsListeners<K extends string>(
  listeners: Record<K, TlsListenerConfig | undefined>,
): Partial<Record<K, TlsCredentials>> {
  const out: Partial<Record<K, TlsCredentials>> = {};
  const problems: string[] = [];
  for (const name of Object.keys(listeners) as K[]) {
    const l = listeners[name];
    if (!l?.enabled) continue;
    try {
      out[name] = readTlsCredentials(name, l);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out;
}

/** One listener's files, checked; throws a ConfigError listing what is wrong with them. */
export function readTlsCredentials(
  name: string,
  l: Pick<TlsListenerConfig, 'certFile' | 'keyFile'>,
): TlsCredentials {
  const problems: string[] = [];
  const read = (key: string, path: string): string | undefined => {
    if (!path) {
      problems.push(`${name}.${key}: required when ${name}.enabled is true`);
      return undefined;
    }
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push(`${name}.${key}: cannot read ${path} (${why})`);
      return undefined;
    }
  };
  const certText = read('certFile', l.certFile);
  const keyText = read('keyFile', l.keyFile);
  let cert: X509Certificate | undefined;
  let key: KeyObject | undefined;
  if (certText !== undefined) {
    try {
      cert = new X509Certificate(certText);
    } catch {
      problems.push(`${name}.certFile: ${l.certFile} is not a PEM certificate`);
    }
  }
  if (keyText !== undefined) {
    try {
      key = createPrivateKey(keyText);
    } catch {
      // Also what an encrypted key gives: no passphrase is configured.
      problems.push(`${name}.keyFile: ${l.keyFile} is not an unencrypted PEM private key`);
    }
  }
  if (cert && key && !cert.checkPrivateKey(key)) {
    problems.push(`${name}.keyFile: ${l.keyFile} is not the private key of the certificate in ${l.certFile}`);
  }
  if (problems.length) throw new ConfigError(problems);
  const creds = { cert: certText!, key: keyText! };
  try {
    // What the server will do with them: a chain OpenSSL refuses (a bad intermediate) fails here.
    createSecureContext(creds);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? 'refused';
    throw new ConfigError([`${name}.certFile: OpenSSL refuses ${l.certFile} with ${l.keyFile} (${why})`]);
  }
  return creds;
}
