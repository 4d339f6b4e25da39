import { isIPv4, isIPv6 } from 'node:net';

/**
 * The registry's Redis URL (config `cluster.redisUrl`), sans I/O. Three topologies:
 *
 *   redis://[[user]:password@]host[:port][/db]                      one server (rediss:// = TLS)
 *   redis-sentinel://[[user]:password@]host[:port][,host[:port]…]/<masterName>[/<db>]
 *       [?sentinelUsername=…&sentinelPassword=…]                      sentinels, default port 26379
 *   redis-cluster://[[user]:password@]host[:port][,host[:port]…]    seed nodes of a Redis Cluster
 *
 * `rediss-sentinel://` and `rediss-cluster://` use TLS to every server (sentinels included).
 * The user and password are the data nodes'; a sentinel that has its own password takes it
 * from the query. Reserved characters in user names, passwords and master names are
 * percent-encoded (RFC 3986 §2.1; `+` is a plus, not a space); IPv6 hosts are bracketed.
 * Errors name the part that is wrong and never echo a password.
 */

export const RedisTopology = { Single: 'single', Sentinel: 'sentinel', Cluster: 'cluster' } as const;
export type RedisTopology = (typeof RedisTopology)[keyof typeof RedisTopology];

export interface RedisHostPort {
  host: string;
  port: number;
}

interface RedisAuth {
  username?: string;
  password?: string;
}

export interface SingleTarget extends RedisAuth {
  topology: typeof RedisTopology.Single;
  tls: boolean;
  host: string;
  port: number;
  db: number;
}

export interface SentinelTarget extends RedisAuth {
  topology: typeof RedisTopology.Sentinel;
  tls: boolean;
  sentinels: RedisHostPort[];
  masterName: string;
  db: number;
  sentinelUsername?: string;
  sentinelPassword?: string;
}

export interface ClusterTarget extends RedisAuth {
  topology: typeof RedisTopology.Cluster;
  tls: boolean;
  nodes: RedisHostPort[];
}

export type RedisTarget = SingleTarget | SentinelTarget | ClusterTarget;

export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
  readonly code = 'REDIS_URL_INVALID';
}

/** A config value, not a place for data: anything longer is a mistake. */
const MAX_URL_LENGTH = 4096;
/** Seed lists name a few servers; the client discovers the rest. */
const MAX_HOSTS = 64;
/** Redis's `databases` setting is an int. */
const MAX_DB = 2_147_483_647;

const SCHEMES: Record<string, { topology: RedisTopology; tls: boolean }> = {
  redis: { topology: RedisTopology.Single, tls: false },
  rediss: { topology: RedisTopology.Single, tls: true },
  'redis-sentinel': { topology: RedisTopology.Sentinel, tls: false },
  'rediss-sentinel': { topology: RedisTopology.Sentinel, tls: true },
  'redis-cluster': { topology: RedisTopology.Cluster, tls: false },
  'rediss-cluster': { topology: RedisTopology.Cluster, tls: true },
};

const DEFAULT_PORT: Record<RedisTopology, number> = { single: 6379, sentinel: 26379, cluster: 6379 };
const SENTINEL_QUERY = ['sentinelUsername', 'sentinelPassword'] as const;

const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const DB = /^(?:0|[1-9][0-9]{0,9})$/;
const PORT = /^[0-9]{1,5}$/;
/** After percent-decoding: printable, no spaces (Sentinel master names are config tokens). */
const MASTER_NAME = /^[!-~]{1,256}$/;

const fail = (msg: string): never => {
  throw new RedisUrlError(msg);
};

export function parseRedisUrl(url: string): RedisTarget {
  if (url.length > MAX_URL_LENGTH) fail(`longer than ${MAX_URL_LENGTH} characters`);
  if (/[^!-~]/.test(url)) fail('must be printable ASCII without spaces (percent-encode the rest)');
  const sep = url.indexOf('://');
  const scheme = sep < 0 ? '' : url.slice(0, sep);
  const kind = SCHEMES[scheme];
  if (!kind) {
    return fail(`scheme must be one of ${Object.keys(SCHEMES).join(', ')} (followed by ://)`);
  }
  if (url.includes('#')) fail("'#' is not allowed (percent-encode it as %23 in a password)");
  const rest = url.slice(sep + 3);
  const authEnd = firstOf(rest, '/?');
  const authority = rest.slice(0, authEnd);
  const afterAuth = rest.slice(authEnd);
  const q = afterAuth.indexOf('?');
  const path = q < 0 ? afterAuth : afterAuth.slice(0, q);
  const query = parseQuery(q < 0 ? '' : afterAuth.slice(q + 1));

  const at = authority.lastIndexOf('@');
  const auth = at < 0 ? {} : parseUserInfo(authority.slice(0, at));
  const hosts = parseHosts(at < 0 ? authority : authority.slice(at + 1), DEFAULT_PORT[kind.topology]);
  const { topology, tls } = kind;

  if (topology === RedisTopology.Sentinel) {
    const allowed: readonly string[] = SENTINEL_QUERY;
    for (const k of query.keys()) {
      if (!allowed.includes(k))
        fail(`unknown query parameter ${JSON.stringify(k)} (allowed: ${allowed.join(', ')})`);
    }
    const parts = path.split('/');
    if (path === '' || path === '/' || parts[1] === '')
      fail('needs the master name: redis-sentinel://host:port/<masterName>');
    if (parts.length > 3) fail('path must be /<masterName> or /<masterName>/<db>');
    const masterName = decode(parts[1]!, 'master name');
    if (!MASTER_NAME.test(masterName)) fail('master name must be printable characters without spaces');
    const sentinelUsername = query.get('sentinelUsername');
    const sentinelPassword = query.get('sentinelPassword');
    if (sentinelUsername !== undefined && !sentinelPassword)
      fail('sentinelUsername needs a sentinelPassword');
    return {
      topology,
      tls,
      sentinels: hosts,
      masterName,
      db: parseDb(parts[2] ?? ''),
      ...auth,
      ...(sentinelUsername ? { sentinelUsername } : {}),
      ...(sentinelPassword ? { sentinelPassword } : {}),
    };
  }
  if (query.size > 0) fail(`${scheme}:// takes no query parameters`);
  if (topology === RedisTopology.Cluster) {
    if (path !== '' && path !== '/') fail('Redis Cluster has only database 0: no path allowed');
    return { topology, tls, nodes: hosts, ...auth };
  }
  if (hosts.length !== 1) {
    fail(`${scheme}:// takes one host; use redis-sentinel:// or redis-cluster:// for several`);
  }
  if (path.indexOf('/', 1) > 0) fail('path must be /<db>');
  return { topology, tls, ...hosts[0]!, db: parseDb(path.slice(1)), ...auth };
}

/** The URL back, passwords replaced by `***` unless `showPasswords`: safe to log. */
export function formatRedisUrl(t: RedisTarget, showPasswords = false): string {
  const secret = (s: string): string => (showPasswords ? encodeURIComponent(s) : '***');
  const user = t.password ? `${encodeURIComponent(t.username ?? '')}:${secret(t.password)}@` : '';
  const s = t.tls ? 'rediss' : 'redis';
  switch (t.topology) {
    case RedisTopology.Single:
      return `${s}://${user}${formatHosts([t])}/${t.db}`;
    case RedisTopology.Cluster:
      return `${s}-cluster://${user}${formatHosts(t.nodes)}`;
    case RedisTopology.Sentinel: {
      const q: string[] = [];
      if (t.sentinelUsername) q.push(`sentinelUsername=${encodeURIComponent(t.sentinelUsername)}`);
      if (t.sentinelPassword) q.push(`sentinelPassword=${secret(t.sentinelPassword)}`);
      const name = encodeURIComponent(t.masterName);
      return `${s}-sentinel://${user}${formatHosts(t.sentinels)}/${name}/${t.db}${q.length ? '?' + q.join('&') : ''}`;
    }
  }
}

function formatHosts(hosts: RedisHostPort[]): string {
  return hosts.map((h) => `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`).join(',');
}

function firstOf(s: string, chars: string): number {
  for (let i = 0; i < s.length; i++) if (chars.includes(s[i]!)) return i;
  return s.length;
}

function decode(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return fail(`malformed percent-encoding in the ${what}`);
  }
}

function parseUserInfo(info: string): RedisAuth {
  const colon = info.indexOf(':');
  const username = decode(colon < 0 ? info : info.slice(0, colon), 'user name');
  const password = colon < 0 ? '' : decode(info.slice(colon + 1), 'password');
  if (!password) {
    if (username) fail('a user name needs a password (user:password@)');
    return {};
  }
  return username ? { username, password } : { password };
}

function parseHosts(list: string, defaultPort: number): RedisHostPort[] {
  if (list === '') fail('no host');
  const items = list.split(',');
  if (items.length > MAX_HOSTS) fail(`more than ${MAX_HOSTS} hosts`);
  const out: RedisHostPort[] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const where = items.length > 1 ? `host ${i + 1} of ${items.length}` : 'host';
    const hp = parseHostPort(item, defaultPort, where);
    const id = `${hp.host}|${hp.port}`;
    if (seen.has(id)) fail(`${where} is listed twice`);
    seen.add(id);
    out.push(hp);
  });
  return out;
}

/**
 * `host[:port]` or `[ipv6][:port]`. Messages say which host, never its text: a password
 * with an unencoded '/' or '?' ends the authority early and lands here.
 */
function parseHostPort(item: string, defaultPort: number, where: string): RedisHostPort {
  const hint = " (percent-encode '/', '?', '#', '@' and ':' in passwords)";
  let host: string;
  let portText: string | undefined;
  if (item.startsWith('[')) {
    const close = item.indexOf(']');
    if (close < 0) fail(`${where}: unclosed '['`);
    host = item.slice(1, close);
    if (!isIPv6(host) || host.includes('%')) fail(`${where}: invalid IPv6 address`);
    const after = item.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) fail(`${where}: expected ':' after ']'`);
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = item.indexOf(':');
    host = colon < 0 ? item : item.slice(0, colon);
    portText = colon < 0 ? undefined : item.slice(colon + 1);
    if (host === '') fail(`${where}: empty${hint}`);
    if (host.length > 253 || !HOSTNAME.test(host)) fail(`${where}: invalid host name${hint}`);
    if (/^[0-9.]+$/.test(host) && !isIPv4(host)) fail(`${where}: invalid IPv4 address`);
  }
  if (portText === undefined) return { host, port: defaultPort };
  const port = Number(portText);
  if (!PORT.test(portText) || port < 1 || port > 65535) fail(`${where}: port must be 1-65535${hint}`);
  return { host, port };
}

function parseDb(text: string): number {
  if (text === '') return 0;
  if (!DB.test(text) || Number(text) > MAX_DB) fail(`database index must be an integer 0-${MAX_DB}`);
  return Number(text);
}

/** `k=v&…`, each part percent-decoded; duplicates are refused (which one would win?). */
function parseQuery(q: string): Map<string, string> {
  const out = new Map<string, string>();
  if (q === '') return out;
  for (const part of q.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) fail('query must be name=value pairs separated by &');
    const k = decode(part.slice(0, eq), 'query');
    if (out.has(k)) fail(`query parameter ${JSON.stringify(k)} given twice`);
    out.set(k, decode(part.slice(eq + 1), `query parameter ${k}`));
  }
  return out;
}
