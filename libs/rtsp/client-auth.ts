import { randomBytes } from 'node:crypto';
import { parseAuthItems, quote } from './auth-params.ts';
import type { AuthItem } from './auth-params.ts';
import type { RtspCredential } from './auth.ts';
import { digestAlgorithm, digestResponse } from './digest.ts';
import type { DigestAlgorithm } from './digest.ts';
import { RtspErrorCode, rtspError } from './errors.ts';

/**
 * Client-side RTSP authentication: from the WWW-Authenticate values of a 401, picks Digest
 * (SHA-256 over MD5 when both are offered, RFC 7616 §3.7) over Basic, and builds Authorization
 * values. With qop=auth offered it counts nc per nonce (RFC 2617 §3.2.2); otherwise it uses the
 * RFC 2069 form.
 */
export class RtspClientAuth {
  private readonly cred: RtspCredential;
  private readonly digest: { item: AuthItem; algorithm: DigestAlgorithm; qopAuth: boolean } | null;
  private nc = 0;

  constructor(cred: RtspCredential, wwwAuthenticate: string[]) {
    this.cred = cred;
    const items = wwwAuthenticate.flatMap((v) => parseAuthItems(v));
    const digests = items
      .filter((i) => i.scheme === 'digest' && i.params.has('nonce') && i.params.has('realm'))
      .map((item) => ({ item, algorithm: digestAlgorithm(item.params.get('algorithm')) }))
      .filter((d): d is { item: AuthItem; algorithm: DigestAlgorithm } => d.algorithm !== null)
      .map((d) => {
        const qop = d.item.params.get('qop');
        // qop="auth,auth-int": we use auth; only auth-int offered means the RFC 2069 form is not allowed.
        const options = qop === undefined ? [] : qop.split(',').map((s) => s.trim().toLowerCase());
        return {
          ...d,
          qopAuth: options.includes('auth'),
          usable: qop === undefined || options.includes('auth'),
        };
      })
      .filter((d) => d.usable);
    const best = digests.find((d) => d.algorithm.startsWith('SHA-256')) ?? digests[0];
    this.digest = best ? { item: best.item, algorithm: best.algorithm, qopAuth: best.qopAuth } : null;
    if (!this.digest && !items.some((i) => i.scheme === 'basic')) {
      throw rtspError(RtspErrorCode.BadChallenge, 'no usable Digest or Basic challenge in WWW-Authenticate');
    }
  }

  /** The scheme in use. */
  get scheme(): 'digest' | 'basic' {
    return this.digest ? 'digest' : 'basic';
  }

  /** The Authorization value for a request (`uri` exactly as in its request line). */
  authorization(method: string, uri: string): string {
    const { username, password } = this.cred;
    if (!this.digest) return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
    const { item, algorithm, qopAuth } = this.digest;
    const realm = item.params.get('realm')!;
    const nonce = item.params.get('nonce')!;
    const parts = [
      `username=${quote(username)}`,
      `realm=${quote(realm)}`,
      `nonce=${quote(nonce)}`,
      `uri=${quote(uri)}`,
    ];
    let response: string;
    if (qopAuth) {
      this.nc++;
      const nc = this.nc.toString(16).padStart(8, '0');
      const cnonce = randomBytes(8).toString('hex');
      response = digestResponse({
        algorithm,
        username,
        realm,
        password,
        method,
        uri,
        nonce,
        qop: { nc, cnonce },
      });
      parts.push(`response=${quote(response)}`, `qop=auth`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
    } else {
      response = digestResponse({ algorithm, username, realm, password, method, uri, nonce });
      parts.push(`response=${quote(response)}`);
    }
    if (item.params.has('algorithm')) parts.push(`algorithm=${algorithm}`);
    const opaque = item.params.get('opaque');
    if (opaque !== undefined) parts.push(`opaque=${quote(opaque)}`);
    return `Digest ${parts.join(', ')}`;
  }
}
