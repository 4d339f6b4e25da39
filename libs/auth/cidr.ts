/**
 * IP addresses and CIDR blocks for allow and deny lists. Every address is held as 16 bytes
 * (IPv4 as its IPv4-mapped IPv6 form, RFC 4291 §2.5.5.2), so an IPv4 rule also matches a client
 * that a dual-stack socket reports as `::ffff:a.b.c.d`, and `::ffff:10.0.0.0/104` equals `10.0.0.0/8`.
 */

export interface Cidr {
  /** The network address, 16 bytes, host bits cleared. */
  readonly bytes: Uint8Array;
  /** Prefix length over the 128 bits. */
  readonly bits: number;
}

const V4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(s: string): number[] | null {
  const m = V4_RE.exec(s);
  if (!m) return null;
  const out = m.slice(1).map((p) => (p.length > 1 && p.startsWith('0') ? NaN : Number(p)));
  return out.every((n) => Number.isInteger(n) && n <= 255) ? out : null;
}

/** A textual IPv6 address (RFC 4291 §2.2, with a dotted IPv4 tail) as 8 groups, or null. */
function parseV6Groups(s: string): number[] | null {
  if (s.length > 45) return null;
  let tail: number[] = [];
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    const v4 = parseV4(s.slice(lastColon + 1));
    if (!v4) return null;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    // `a::b:1.2.3.4` leaves `a::b`; `::1.2.3.4` leaves `::`.
    text = s.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const group = (g: string): number => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN);
  const head = halves[0] ? halves[0].split(':').map(group) : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':').map(group) : [];
  const want = 8 - tail.length;
  if ([...head, ...rest].some(Number.isNaN)) return null;
  if (halves.length === 1) {
    if (head.length !== want) return null;
    return [...head, ...tail];
  }
  const zeros = want - head.length - rest.length;
  if (zeros < 1) return null;
  return [...head, ...Array<number>(zeros).fill(0), ...rest, ...tail];
}

/** An IPv4 or IPv6 address (a `%zone` ignored) as 16 bytes, or null. */
export function parseIp(text: string): Uint8Array | null {
  const s = text.trim();
  const v4 = parseV4(s);
  const out = new Uint8Array(16);
  if (v4) {
    out[10] = 0xff;
    out[11] = 0xff;
    out.set(v4, 12);
    return out;
  }
  const zone = s.indexOf('%');
  const groups = parseV6Groups(zone < 0 ? s : s.slice(0, zone));
  if (!groups) return null;
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** `a.b.c.d/n`, `v6/n` or a bare address (a /32 or /128), or null. */
export function parseCidr(text: string): Cidr | null {
  const s = text.trim();
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const bytes = parseIp(addr);
  if (!bytes) return null;
  const isV4 = parseV4(addr) !== null;
  const max = isV4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > max) return null;
    bits = Number(p);
  }
  if (isV4) bits += 96;
  return { bytes: mask(bytes, bits), bits };
}

function mask(b: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] = b[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

export function cidrContains(c: Cidr, ip: Uint8Array): boolean {
  const m = mask(ip, c.bits);
  for (let i = 0; i < 16; i++) if (m[i] !== c.bytes[i]) return false;
  return true;
}

/** A list of blocks; `matches` is true when any holds the address. */
export class CidrList {
  readonly blocks: readonly Cidr[];
  constructor(blocks: readonly Cidr[]) {
    this.blocks = blocks;
  }

  /** Parses every entry; the ones that do not parse are returned as `bad`. */
  static parse(entries: readonly string[]): { list: CidrList; bad: string[] } {
    const blocks: Cidr[] = [];
    const bad: string[] = [];
    for (const e of entries) {
      const c = parseCidr(e);
      if (c) blocks.push(c);
      else bad.push(e);
    }
    return { list: new CidrList(blocks), bad };
  }

  get size(): number {
    return this.blocks.length;
  }

  matches(ip: Uint8Array): boolean {
    return this.blocks.some((c) => cidrContains(c, ip));
  }
}

/** The address of a `host:port` / `[v6]:port` remote as Sluice's sessions note it. */
export function hostOfRemote(remote: string): string {
  const i = remote.lastIndexOf(':');
  const host = i < 0 ? remote : remote.slice(0, i);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
