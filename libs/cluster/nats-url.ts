/** Credentials carried in a NATS URL's userinfo. */
export type NatsUrlAuth = { user: string; pass: string } | { token: string } | null;

/** What a `cluster.natsUrl` value says: where to dial, whether TLS is required, who to be. */
export interface NatsTarget {
  /** `host:port` each, without scheme or userinfo: safe to log, what nats.js dials. */
  servers: string[];
  /** True when any server is `tls://`: the connection must be encrypted. */
  tls: boolean;
  auth: NatsUrlAuth;
}

/** A NATS URL that cannot be used. The message never repeats the URL (it may hold a password). */
export class NatsUrlError extends Error {
  override readonly name = 'NatsUrlError';
  readonly code = 'NATS_URL_INVALID';
}

const DEFAULT_PORT = '4222';
const SCHEMES: Record<string, boolean> = { 'nats:': false, 'tls:': true };

/**
 * Parses `nats://` or `tls://` URLs, several joined by commas, each optionally with
 * `user:password@` or `token@` (percent-encoded). Credentials are split out because nats.js
 * takes them as options and logs must never show them; every server must carry the same ones
 * (or none), since one connection presents one identity to whichever server it reaches.
 */
export function parseNatsUrl(url: string): NatsTarget {
  const parts = url.split(',').map((s) => s.trim());
  let tls = false;
  let auth: NatsUrlAuth = null;
  let authFrom = -1;
  const servers = parts.map((one, i) => {
    const where = parts.length > 1 ? `server ${i + 1} of ${parts.length}` : 'the URL';
    if (!one) throw new NatsUrlError(`${where} is empty`);
    let u: URL;
    try {
      u = new URL(one);
    } catch {
      throw new NatsUrlError(`${where} is not a URL (expected nats://host:port or tls://host:port)`);
    }
    const scheme = SCHEMES[u.protocol];
    if (scheme === undefined) {
      throw new NatsUrlError(`${where} has scheme ${u.protocol}// (expected nats:// or tls://)`);
    }
    if (!u.hostname) throw new NatsUrlError(`${where} has no host`);
    tls ||= scheme;
    const mine = userinfo(u, where);
    if (mine) {
      if (auth && !sameAuth(auth, mine)) {
        throw new NatsUrlError(`${where} carries other credentials than server ${authFrom + 1}`);
      }
      auth = mine;
      authFrom = i;
    }
    return `${u.hostname}:${u.port || DEFAULT_PORT}`;
  });
  return { servers, tls, auth };
}

function userinfo(u: URL, where: string): NatsUrlAuth {
  if (!u.username && !u.password) return null;
  let user: string;
  let pass: string;
  try {
    user = decodeURIComponent(u.username);
    pass = decodeURIComponent(u.password);
  } catch {
    throw new NatsUrlError(`${where} has a badly percent-encoded user, password or token`);
  }
  if (!user) throw new NatsUrlError(`${where} has a password but no user`);
  // `token@host` and `user:@host` look the same to URL: a bare name is a token.
  return pass ? { user, pass } : { token: user };
}

function sameAuth(a: NonNullable<NatsUrlAuth>, b: NonNullable<NatsUrlAuth>): boolean {
  if ('token' in a) return 'token' in b && a.token === b.token;
  return 'user' in b && a.user === b.user && a.pass === b.pass;
}
