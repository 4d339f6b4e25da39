import { createHash } from 'node:crypto';

/** Digest algorithms we speak: MD5 (RFC 2617, what every camera and player uses) and SHA-256 (RFC 7616). */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export function digestAlgorithm(name: string | undefined): DigestAlgorithm | null {
  switch ((name ?? 'MD5').toUpperCase()) {
    case 'MD5':
      return 'MD5';
    case 'MD5-SESS':
      return 'MD5-sess';
    case 'SHA-256':
      return 'SHA-256';
    case 'SHA-256-SESS':
      return 'SHA-256-sess';
    default:
      return null;
  }
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  /** qop=auth with its nc and cnonce; absent for the RFC 2069 form ffmpeg and live555 also use. */
  qop?: { nc: string; cnonce: string };
  /** -sess algorithms hash the cnonce into HA1 even without qop. */
  cnonce?: string;
}

/** The request-digest of RFC 2617 §3.2.2.1 / RFC 7616 §3.4.1, lower-case hex. */
export function digestResponse(d: DigestInput): string {
  const h = (s: string): string =>
    createHash(d.algorithm.startsWith('SHA-256') ? 'sha256' : 'md5')
      .update(s, 'utf8')
      .digest('hex');
  let ha1 = h(`${d.username}:${d.realm}:${d.password}`);
  if (d.algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${d.nonce}:${d.qop?.cnonce ?? d.cnonce ?? ''}`);
  const ha2 = h(`${d.method}:${d.uri}`);
  if (d.qop) return h(`${ha1}:${d.nonce}:${d.qop.nc}:${d.qop.cnonce}:auth:${ha2}`);
  return h(`${ha1}:${d.nonce}:${ha2}`);
}
