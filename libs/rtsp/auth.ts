import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseAuthItems, quote } from './auth-params.ts';
import type { AuthItem } from './auth-params.ts';
import { digestAlgorithm, digestResponse } from './digest.ts';

export interface RtspCredential {
  username: string;
  password: string;
}
export type AuthMethod = 'basic' | 'digest';
export type AuthResult = 'ok' | 'missing' | 'denied' | 'stale';

/**
 * Server nonce: 12 hex digits of issue time (ms), 16 of randomness, 16 of an HMAC over both
 * with a per-authenticator secret. The HMAC lets us tell a nonce we issued (and since forgot or
 * let expire: 'stale', RFC 2617 §3.2.1) from one we never issued ('denied'), whatever the table
 * holds.
 */
const NONCE = /^([0-9a-f]{12})([0-9a-f]{16})([0-9a-f]{16})$/;

/**
 * Server-side RTSP authentication: Basic (RFC 7617) and Digest (RFC 2617, RFC 7616), with
 * qop=auth and the RFC 2069 form without qop that ffmpeg, VLC (live555) and cameras send.
 * Challenges do not offer qop (as lal and mediamtx do: some clients mishandle it), but
 * credentials that use it are accepted.
 */
export class RtspAuthenticator {
  private readonly realm: string;
  private readonly methods: ReadonlySet<AuthMethod>;
  private readonly credentials: readonly RtspCredential[];
  /** sha256("user:password") per credential, for constant-time Basic checks. */
  private readonly basicHashes: readonly Buffer[];
  private readonly nonceTtlMs: number;
  private readonly maxNonces: number;
  private readonly now: () => number;
  private readonly secret = randomBytes(32);
  /** Issued nonces -> issue time, oldest first (Map keeps insertion order). */
  private readonly nonces = new Map<string, number>();

  constructor(o: {
    realm: string;
    methods: AuthMethod[];
    credentials: RtspCredential[];
    nonceTtlMs?: number;
    maxNonces?: number;
    /** Clock for nonce ages (tests); Date.now by default. */
    now?: () => number;
  }) {
    if (/["\\\r\n]/.test(o.realm))
      throw new TypeError('realm must not contain quotes, backslashes or line breaks');
    this.realm = o.realm;
    this.methods = new Set(o.methods);
    this.credentials = o.credentials.map((c) => ({ ...c }));
    this.basicHashes = this.credentials.map((c) => sha256(`${c.username}:${c.password}`));
    this.nonceTtlMs = o.nonceTtlMs ?? 60_000;
    this.maxNonces = Math.max(1, o.maxNonces ?? 10_000);
    this.now = o.now ?? Date.now;
  }

  /** WWW-Authenticate values for a 401, Digest first (clients pick the first they know). */
  challenge(o: { stale?: boolean } = {}): string[] {
    const out: string[] = [];
    if (this.methods.has('digest')) {
      const stale = o.stale === true ? ', stale=TRUE' : '';
      out.push(`Digest realm=${quote(this.realm)}, nonce=${quote(this.issueNonce())}${stale}`);
    }
    if (this.methods.has('basic')) out.push(`Basic realm=${quote(this.realm)}`);
    return out;
  }

  /** Checks the Authorization header of a request. Never throws. */
  verify(method: string, uri: string, authorization: string | undefined): AuthResult {
    if (authorization === undefined || authorization.trim() === '') return 'missing';
    try {
      const item = parseAuthItems(authorization)[0];
      if (!item) return 'denied';
      if (item.scheme === 'basic' && this.methods.has('basic')) return this.verifyBasic(item);
      if (item.scheme === 'digest' && this.methods.has('digest')) return this.verifyDigest(method, uri, item);
      return 'denied';
    } catch {
      return 'denied';
    }
  }

  private verifyBasic(item: AuthItem): AuthResult {
    const token = item.token68 ?? '';
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return 'denied';
    const given = sha256(Buffer.from(token, 'base64').toString('utf8'));
    let ok = false;
    // Every credential is compared, so the time does not depend on which one matched.
    for (const h of this.basicHashes) ok = timingSafeEqual(h, given) || ok;
    return ok ? 'ok' : 'denied';
  }

  private verifyDigest(method: string, requestUri: string, item: AuthItem): AuthResult {
    const p = item.params;
    const username = p.get('username');
    const nonce = p.get('nonce');
    const response = p.get('response')?.toLowerCase();
    const algorithm = digestAlgorithm(p.get('algorithm'));
    if (username === undefined || nonce === undefined || response === undefined || algorithm === null)
      return 'denied';
    if (p.get('realm') !== this.realm) return 'denied';
    const qop = p.get('qop');
    let qopParams: { nc: string; cnonce: string } | undefined;
    if (qop !== undefined) {
      const nc = p.get('nc');
      const cnonce = p.get('cnonce');
      if (qop.toLowerCase() !== 'auth' || nc === undefined || !/^[0-9a-fA-F]{8}$/.test(nc) || !cnonce)
        return 'denied';
      qopParams = { nc, cnonce };
    }
    const hexLength = algorithm.startsWith('SHA-256') ? 64 : 32;
    if (!new RegExp(`^[0-9a-f]{${hexLength}}$`).test(response)) return 'denied';
    const cred = this.credentials.find((c) => c.username === username);
    // The digest is computed even for an unknown user, so its cost does not reveal which users exist.
    const password = cred?.password ?? this.secret.toString('hex');
    const uris = [requestUri];
    const headerUri = p.get('uri');
    if (headerUri !== undefined && headerUri !== requestUri && sameResource(headerUri, requestUri))
      uris.push(headerUri);
    let match = false;
    for (const uri of uris) {
      const expected = digestResponse({
        algorithm,
        username,
        realm: this.realm,
        password,
        method,
        uri,
        nonce,
        ...(qopParams && { qop: qopParams }),
        ...(p.get('cnonce') !== undefined && { cnonce: p.get('cnonce')! }),
      });
      match = timingSafeEqual(Buffer.from(expected), Buffer.from(response)) || match;
    }
    if (!match || cred === undefined) return 'denied';
    const state = this.nonceState(nonce);
    return state === 'fresh' ? 'ok' : state === 'stale' ? 'stale' : 'denied';
  }

  private issueNonce(): string {
    const now = this.now();
    // Expired ones first, then the oldest over the cap.
    for (const [n, at] of this.nonces) {
      if (now - at <= this.nonceTtlMs && this.nonces.size < this.maxNonces) break;
      this.nonces.delete(n);
    }
    const head =
      Math.max(0, Math.floor(now)).toString(16).padStart(12, '0').slice(-12) + randomBytes(8).toString('hex');
    const nonce = head + this.mac(head);
    this.nonces.set(nonce, now);
    return nonce;
  }

  private nonceState(nonce: string): 'fresh' | 'stale' | 'foreign' {
    const m = NONCE.exec(nonce);
    if (!m) return 'foreign';
    const head = m[1]! + m[2]!;
    if (!timingSafeEqual(Buffer.from(this.mac(head)), Buffer.from(m[3]!))) return 'foreign';
    const issuedAt = this.nonces.get(nonce);
    if (issuedAt === undefined || this.now() - issuedAt > this.nonceTtlMs) return 'stale';
    return 'fresh';
  }

  private mac(head: string): string {
    return createHmac('sha256', this.secret).update(head).digest('hex').slice(0, 16);
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Whether a digest uri= names the request's resource in another spelling: clients differ on
 * a trailing '/' and on keeping the query (RFC 2617 §3.2.2.5 wants them equal; cameras'
 * clients do not always comply). Absolute vs path-only forms are compared by path.
 */
function sameResource(a: string, b: string): boolean {
  const norm = (u: string): string =>
    u
      .replace(/^rtsps?:\/\/[^/]*/i, '')
      .replace(/\?.*$/s, '')
      .replace(/\/+$/, '');
  return norm(a) === norm(b);
}
