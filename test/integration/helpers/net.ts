import { connect, createServer, type Socket } from 'node:net';
import type { AmfObject, AmfValue } from '../../../libs/amf/index.ts';
import { ChunkReader } from '../../../libs/rtmp/chunk-reader.ts';
import { encodeMessage } from '../../../libs/rtmp/chunk-writer.ts';
import { commandMessage, parseCommand, type RtmpCommand } from '../../../libs/rtmp/commands.ts';
import { parseUserControl, pingRequestMessage } from '../../../libs/rtmp/control.ts';
import { HandshakeClient } from '../../../libs/rtmp/handshake-client.ts';
import { MessageType, UserControlEvent, type RtmpMessage } from '../../../libs/rtmp/message-types.ts';

// Raw TCP, HTTP and RTMP pieces for tests that must send what no well-behaved client would.

/** The port of `scheme://host:port`. */
export const portOf = (url: string): number => Number(new URL(url).port);

/** A port that was free a moment ago (listen on 0, close). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const a = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (typeof a !== 'object' || a === null) throw new Error('no address');
  return a.port;
}

/** A TCP client that records what it receives and when the peer closed. */
export class RawConn {
  readonly socket: Socket;
  readonly openedAt = Date.now();
  /** Kept: the socket forgets it once destroyed. */
  readonly localPort: number;
  closedAt = 0;
  error: Error | null = null;
  private readonly parts: Buffer[] = [];
  private readonly closeWaiters: (() => void)[] = [];
  private readonly dataWaiters: (() => void)[] = [];

  constructor(socket: Socket) {
    this.socket = socket;
    this.localPort = socket.localPort ?? 0;
    socket.on('data', (d: Buffer) => {
      this.parts.push(d);
      for (const w of this.dataWaiters.splice(0)) w();
    });
    socket.on('error', (e) => (this.error = e));
    socket.on('close', () => {
      this.closedAt = Date.now();
      for (const w of this.closeWaiters.splice(0)) w();
      for (const w of this.dataWaiters.splice(0)) w();
    });
  }

  static open(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawConn(s));
      });
      s.once('error', reject);
    });
  }

  /** `remote` as the server logs it for this connection. */
  get remote(): string {
    return `127.0.0.1:${this.localPort}`;
  }

  get closed(): boolean {
    return this.closedAt !== 0;
  }

  received(): Buffer {
    return Buffer.concat(this.parts);
  }

  write(b: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  /** Resolves with the close time; rejects if the peer keeps the socket open past `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<number> {
    if (!this.closed) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
        this.closeWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closedAt;
  }

  /** Waits until at least `n` bytes have arrived (false if the socket closed first or time ran out). */
  async waitBytes(n: number, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.received().length < n) {
      if (this.closed || Date.now() > end) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, end - Date.now()));
        this.dataWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Sends `request` as is and reads the response until the server closes (Connection: close). */
export async function rawHttp(
  port: number,
  request: Buffer | string,
  timeoutMs = 3000,
): Promise<{ status: number; headers: Record<string, string>; body: string; closed: boolean; raw: string }> {
  const c = await RawConn.open(port);
  c.write(request);
  let closed = true;
  try {
    await c.waitClosed(timeoutMs);
  } catch {
    closed = false;
  }
  c.destroy();
  const raw = c.received().toString('latin1');
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? raw : raw.slice(0, headEnd);
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return {
    status: m ? Number(m[1]) : 0,
    headers,
    body: headEnd < 0 ? '' : raw.slice(headEnd + 4),
    closed,
    raw,
  };
}

/** Deterministic pseudo-random bytes (mulberry32), so a failing garbage test can be replayed. */
export function seededBytes(seed: number, n: number): Buffer {
  const out = Buffer.alloc(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

/** A fmt 0 chunk header (RTMP spec §5.3.1): 1-byte basic header for csid 2..63, 2-byte for 64..319. */
export function fmt0Header(
  csid: number,
  length: number,
  typeId: number,
  streamId = 0,
  timestamp = 0,
): Buffer {
  const basic = csid < 64 ? Buffer.of(csid) : Buffer.of(0, csid - 64);
  const b = Buffer.alloc(11);
  b.writeUIntBE(timestamp, 0, 3);
  b.writeUIntBE(length, 3, 3);
  b[6] = typeId;
  b.writeUInt32LE(streamId, 7);
  return Buffer.concat([basic, b]);
}

/** An RTMP client that can be told to misbehave: raw bytes at any point, commands in any order. */
export class RtmpTestClient {
  readonly conn: RawConn;
  readonly messages: RtmpMessage[] = [];
  readonly commands: RtmpCommand[] = [];
  readerError: Error | null = null;
  private readonly reader = new ChunkReader();
  private readonly hs = new HandshakeClient();
  private handshakeDone = false;
  private txn = 1;
  private readonly waiters: (() => void)[] = [];

  private constructor(conn: RawConn) {
    this.conn = conn;
    conn.socket.on('data', (d: Buffer) => this.onData(d));
    conn.socket.on('close', () => this.wake());
  }

  /** TCP connect only; call `handshake()` (or send raw bytes) next. */
  static async open(port: number): Promise<RtmpTestClient> {
    return new RtmpTestClient(await RawConn.open(port));
  }

  /** TCP connect and a complete simple handshake. */
  static async ready(port: number, timeoutMs = 3000): Promise<RtmpTestClient> {
    const c = await RtmpTestClient.open(port);
    await c.handshake(timeoutMs);
    return c;
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  async handshake(timeoutMs = 3000): Promise<void> {
    this.conn.write(this.hs.start());
    await this.until(() => this.handshakeDone, timeoutMs, 'handshake');
  }

  private onData(d: Buffer): void {
    let data = d;
    if (!this.handshakeDone) {
      const step = this.hs.push(data);
      for (const b of step.send) this.conn.write(b);
      if (!step.done) return;
      this.handshakeDone = true;
      data = step.rest;
    }
    try {
      for (const m of this.reader.push(data)) {
        this.messages.push(m);
        if (m.typeId === MessageType.CommandAmf0 || m.typeId === MessageType.CommandAmf3) {
          this.commands.push(parseCommand(m));
        }
      }
    } catch (e) {
      this.readerError = e as Error;
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits for `pred`; rejects on timeout. Also re-checked when the socket closes. */
  async until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, end - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  send(msg: RtmpMessage, chunkSize = 128): void {
    this.conn.write(encodeMessage(msg, chunkSize));
  }

  sendRaw(b: Buffer): void {
    this.conn.write(b);
  }

  command(name: string, commandObject: AmfValue, args: AmfValue[] = [], streamId = 0): number {
    const txn = this.txn++;
    this.send(commandMessage(name, txn, commandObject, args, streamId));
    return txn;
  }

  /** The first received command matching `pred`, waiting for it if needed. */
  async waitCommand(
    pred: (c: RtmpCommand) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<RtmpCommand> {
    let found: RtmpCommand | undefined;
    const check = (): boolean => (found = this.commands.find(pred)) !== undefined;
    try {
      await this.until(check, timeoutMs, what);
    } catch (e) {
      // The command may have arrived just before the close.
      if (!check()) throw e;
    }
    return found!;
  }

  /**
   * A ping request on chunk stream 2, answered by the server once it has read everything sent
   * before it on this connection. Only between chunks: a partial chunk would swallow it.
   */
  async ping(timeoutMs = 3000): Promise<void> {
    const value = this.txn++;
    this.send(pingRequestMessage(value));
    await this.until(
      () =>
        this.messages.some((m) => {
          if (m.typeId !== MessageType.UserControl) return false;
          const uc = parseUserControl(m.payload);
          return uc.event === UserControlEvent.PingResponse && uc.value === value;
        }),
      timeoutMs,
      'ping response',
    );
  }

  async connect(app = 'live', timeoutMs = 3000): Promise<RtmpCommand> {
    const txn = this.command('connect', {
      app,
      tcUrl: `rtmp://127.0.0.1/${app}`,
      flashVer: 'FMLE/3.0',
      objectEncoding: 0,
    });
    return this.waitCommand(
      (c) => c.transactionId === txn && c.name.startsWith('_'),
      timeoutMs,
      'connect result',
    );
  }

  async createStream(timeoutMs = 3000): Promise<number> {
    const txn = this.command('createStream', null);
    const res = await this.waitCommand(
      (c) => c.transactionId === txn && c.name === '_result',
      timeoutMs,
      'createStream',
    );
    const id = res.args[0];
    if (typeof id !== 'number') throw new Error('createStream result has no stream id');
    return id;
  }

  /** onStatus info objects received so far. */
  statuses(): AmfObject[] {
    return this.commands.filter((c) => c.name === 'onStatus').map((c) => (c.args[0] ?? {}) as AmfObject);
  }

  async waitStatus(code: string, timeoutMs: number): Promise<AmfObject> {
    const c = await this.waitCommand(
      (x) => x.name === 'onStatus' && (x.args[0] as AmfObject | undefined)?.code === code,
      timeoutMs,
      `onStatus ${code}`,
    );
    return c.args[0] as AmfObject;
  }

  destroy(): void {
    this.conn.destroy();
  }
}

/** One sample of a Prometheus text exposition. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export async function metrics(api: string): Promise<MetricSample[]> {
  const text = await (await fetch(`${api}/metrics`)).text();
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples of `name` whose labels include `labels`. */
export async function counter(
  api: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  let sum = 0;
  for (const s of await metrics(api)) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** `counter` for `sluice_protocol_errors_total{proto="rtmp",code}`. */
export const rtmpErrors = (api: string, code: string): Promise<number> =>
  counter(api, 'sluice_protocol_errors_total', { proto: 'rtmp', code });

/** Log records of one client connection (the server logs `remote` as ip:port). */
export const logsOf = (logs: Record<string, unknown>[], remote: string): Record<string, unknown>[] =>
  logs.filter((l) => l.remote === remote);

/** pino's numeric levels. */
export const LogLevel = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
