import { get } from 'node:http';
import WebSocket from 'ws';

/** Raw bytes of an HTTP body or WebSocket messages, collected until stopped or closed. */
export interface ByteCollector {
  readonly chunks: Buffer[];
  status: number;
  contentType: string;
  bytes(): Buffer;
  whenClosed(): Promise<void>;
  /** Resolves once at least `n` bytes arrived (rejects on close before that or on timeout). */
  waitBytes(n: number, timeoutMs: number): Promise<void>;
  stop(): void;
}

function collector(): ByteCollector & { feed(b: Buffer): void; close(): void; onStop: () => void } {
  let closed = false;
  let closeWaiters: (() => void)[] = [];
  let total = 0;
  const c = {
    chunks: [] as Buffer[],
    status: 0,
    contentType: '',
    onStop: () => {},
    bytes: () => Buffer.concat(c.chunks),
    feed(b: Buffer) {
      c.chunks.push(b);
      total += b.length;
    },
    close() {
      closed = true;
      for (const w of closeWaiters) w();
      closeWaiters = [];
    },
    whenClosed: () => (closed ? Promise.resolve() : new Promise<void>((r) => closeWaiters.push(r))),
    async waitBytes(n: number, timeoutMs: number) {
      const until = Date.now() + timeoutMs;
      while (total < n) {
        if (closed) throw new Error(`closed after ${total} of ${n} bytes (status ${c.status})`);
        if (Date.now() > until) throw new Error(`only ${total} of ${n} bytes in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop() {
      c.onStop();
    },
  };
  return c;
}

export function httpBytes(url: string): ByteCollector {
  const c = collector();
  const req = get(url, (res) => {
    c.status = res.statusCode ?? 0;
    c.contentType = String(res.headers['content-type'] ?? '');
    res.on('data', (d: Buffer) => c.feed(d));
    res.on('close', () => c.close());
    res.on('error', () => c.close());
  });
  req.on('error', () => c.close());
  c.onStop = () => req.destroy();
  return c;
}

export function wsBytes(url: string): ByteCollector {
  const c = collector();
  const ws = new WebSocket(url);
  ws.binaryType = 'nodebuffer';
  ws.on('upgrade', (res) => (c.status = res.statusCode ?? 0));
  ws.on('unexpected-response', (_req, res) => {
    c.status = res.statusCode ?? 0;
    c.close();
  });
  ws.on('message', (d: Buffer) => c.feed(d));
  ws.on('close', () => c.close());
  ws.on('error', () => c.close());
  c.onStop = () => ws.terminate();
  return c;
}

/** One 188-byte TS packet's header fields. */
export interface TsPacketInfo {
  pid: number;
  cc: number;
  pusi: boolean;
  hasPayload: boolean;
  discontinuity: boolean;
  randomAccess: boolean;
}

/**
 * A deliberately small, independent reading of TS packet headers (not the project's demuxer),
 * for checking what the server sent: sync bytes, PIDs, continuity counters.
 */
export function tsPackets(buf: Buffer): TsPacketInfo[] {
  if (buf.length % 188 !== 0) throw new Error(`${buf.length} bytes is not a whole number of TS packets`);
  const out: TsPacketInfo[] = [];
  for (let o = 0; o < buf.length; o += 188) {
    if (buf[o] !== 0x47) throw new Error(`no sync byte at ${o}`);
    const afc = (buf[o + 3]! >> 4) & 3;
    const hasAf = (afc & 2) !== 0 && buf[o + 4]! > 0;
    const flags = hasAf ? buf[o + 5]! : 0;
    out.push({
      pid: ((buf[o + 1]! & 0x1f) << 8) | buf[o + 2]!,
      cc: buf[o + 3]! & 0x0f,
      pusi: (buf[o + 1]! & 0x40) !== 0,
      hasPayload: (afc & 1) !== 0,
      discontinuity: (flags & 0x80) !== 0,
      randomAccess: (flags & 0x40) !== 0,
    });
  }
  return out;
}

/** Every continuity-counter break per PID ("pid 256 at packet 40: 3 -> 5"). */
export function ccBreaks(packets: TsPacketInfo[]): string[] {
  const last = new Map<number, number>();
  const breaks: string[] = [];
  packets.forEach((p, i) => {
    if (p.pid === 0x1fff) return;
    const prev = last.get(p.pid);
    if (prev !== undefined && !p.discontinuity) {
      const want = p.hasPayload ? (prev + 1) & 15 : prev;
      if (p.cc !== want) breaks.push(`pid ${p.pid} at packet ${i}: ${prev} -> ${p.cc}`);
    }
    last.set(p.pid, p.cc);
  });
  return breaks;
}
