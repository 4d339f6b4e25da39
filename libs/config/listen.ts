/**
 * A parsed listen address. `host` empty means every interface, IPv4 and IPv6: bound as `::`
 * with IPv6-only off (dual stack), or `0.0.0.0` where the host has no IPv6 (libs/http/listen.ts).
 */
export interface ListenAddress {
  host: string;
  port: number;
}

/** 0 (a free port the system picks) to 65535, in at most five digits. */
const PORT = '(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[0-5][0-9]{4}|[0-9]{1,4})';

/**
 * `host:port`, `:port` or `[v6]:port`: the schemas' `pattern` for every listen key, so editors and
 * the startup check refuse the same strings (a port over 65535 never reaches a bind).
 */
export const LISTEN_PATTERN = `^(\\[[^\\]\\s]+\\]|[^:\\[\\]\\s]*):${PORT}$`;

export const LISTEN_HINT = 'host:port, :port or [v6]:port with a port 1-65535 (0: any free port)';

const listenRe = new RegExp(LISTEN_PATTERN);

export function parseListen(value: string): ListenAddress {
  const m = listenRe.exec(value);
  if (!m) throw new Error(`invalid listen address ${JSON.stringify(value)}: expected ${LISTEN_HINT}`);
  const bracketed = m[1]!.startsWith('[');
  return { host: bracketed ? m[1]!.slice(1, -1) : m[1]!, port: Number(m[2]) };
}

export function formatListen(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
