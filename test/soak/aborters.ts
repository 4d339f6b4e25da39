import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { HANG_DEADLINE_MS } from './config.ts';
import type { Rng } from './rng.ts';
import type { EdgeAddress } from './router.ts';

/** How a misbehaving client treats its connection. */
export const AbortMode = {
  /** C0 and part of C1, then close. */
  RtmpCloseInC1: 'rtmp-close-in-c1',
  /** C0+C1, wait for S0+S1+S2, close without C2. */
  RtmpCloseBeforeC2: 'rtmp-close-before-c2',
  /** C0 and part of C1, then silence: the edge's handshake timeout must close it. */
  RtmpHang: 'rtmp-hang',
  /** Part of a GET request line and headers, then close. */
  HttpCloseMidRequest: 'http-close-mid-request',
  /** Part of a WebSocket upgrade request, then close. */
  WsCloseMidUpgrade: 'ws-close-mid-upgrade',
  /** Part of a GET request, then silence: the edge's headers timeout must close it. */
  HttpHang: 'http-hang',
} as const;
export type AbortMode = (typeof AbortMode)[keyof typeof AbortMode];

const MODES = Object.values(AbortMode);
const portOf = (url: string): number => Number(new URL(url).port);

export interface AbortSummary {
  started: number;
  byMode: Record<string, number>;
  /** Hanging clients the edge closed, and the slowest close (ms). */
  hangsClosed: number;
  hangCloseMaxMs: Record<string, number>;
  /** Hanging clients still open at their deadline: errors. */
  hangsNotClosed: number;
  /** Hanging clients the run ended before their deadline. */
  hangsUnverified: number;
  /** TCP connects that failed: errors (an edge refused or was down). */
  connectErrors: number;
  lastError: string;
}

interface OpenClient {
  socket: Socket;
  hang: boolean;
  timer: NodeJS.Timeout | null;
  /** We closed it (deadline or end of run), not the edge. */
  ours: boolean;
}

/**
 * Clients that give up (or go silent) mid-handshake, `perSecond` of them, on random edges. The
 * ones that close must cost the edge nothing visible; the silent ones must be closed by the edge
 * within its handshake/headers timeout (HANG_DEADLINE_MS), else that is an error.
 */
export class Aborters {
  private readonly s: AbortSummary = {
    started: 0,
    byMode: {},
    hangsClosed: 0,
    hangCloseMaxMs: {},
    hangsNotClosed: 0,
    hangsUnverified: 0,
    connectErrors: 0,
    lastError: '',
  };
  private readonly open = new Set<OpenClient>();
  private timer: NodeJS.Timeout | null = null;
  private readonly edges: EdgeAddress[];
  private readonly rng: Rng;
  private readonly keys: string[];

  constructor(edges: EdgeAddress[], keys: string[], rng: Rng) {
    this.edges = edges;
    this.keys = keys;
    this.rng = rng;
  }

  start(perSecond: number): void {
    if (perSecond <= 0) return;
    const schedule = (): void => {
      // Poisson arrivals: exponential gaps with mean 1/perSecond.
      const gapMs = (-Math.log(1 - this.rng.next()) * 1000) / perSecond;
      this.timer = setTimeout(() => {
        this.one();
        schedule();
      }, gapMs);
    };
    schedule();
  }

  stop(): AbortSummary {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const c of this.open) {
      if (c.hang) this.s.hangsUnverified++;
      if (c.timer) clearTimeout(c.timer);
      c.ours = true;
      c.socket.destroy();
    }
    this.open.clear();
    return this.summary();
  }

  summary(): AbortSummary {
    return structuredClone(this.s);
  }

  /** Errors so far (hangs not closed in time, failed connects). */
  get errorCount(): number {
    return this.s.hangsNotClosed + this.s.connectErrors;
  }

  private one(): void {
    const mode = this.rng.pick(MODES);
    const edge = this.rng.pick(this.edges);
    const key = this.rng.pick(this.keys);
    const rtmp = mode.startsWith('rtmp');
    const hang = mode === AbortMode.RtmpHang || mode === AbortMode.HttpHang;
    this.s.started++;
    this.s.byMode[mode] = (this.s.byMode[mode] ?? 0) + 1;
    const socket = connect({ host: '127.0.0.1', port: portOf(rtmp ? edge.rtmp : edge.http) });
    const entry: OpenClient = { socket, hang, timer: null, ours: false };
    this.open.add(entry);
    const openedAt = performance.now();
    let connected = false;
    let received = 0;
    socket.on('data', (d: Buffer) => {
      received += d.length;
      // S0 + S1 + S2 (RTMP spec §5.2): the handshake is ours to finish, and we do not.
      if (mode === AbortMode.RtmpCloseBeforeC2 && received >= 1 + 1536 * 2) socket.destroy();
    });
    socket.on('error', (e) => {
      if (!connected) {
        this.s.connectErrors++;
        this.s.lastError = `${mode} to ${edge.nodeId}: ${e.message}`;
      }
    });
    socket.on('close', () => {
      this.open.delete(entry);
      if (entry.timer) clearTimeout(entry.timer);
      if (hang && connected && !entry.ours) {
        this.s.hangsClosed++;
        const ms = Math.round(performance.now() - openedAt);
        this.s.hangCloseMaxMs[mode] = Math.max(this.s.hangCloseMaxMs[mode] ?? 0, ms);
      }
    });
    socket.on('connect', () => {
      connected = true;
      const c1Part = randomBytes(1 + Math.floor(this.rng.next() * 1534));
      switch (mode) {
        case AbortMode.RtmpCloseInC1:
          socket.write(Buffer.concat([Buffer.of(3), c1Part]));
          setTimeout(() => socket.destroy(), this.rng.between(0, 300));
          return;
        case AbortMode.RtmpCloseBeforeC2:
          socket.write(Buffer.concat([Buffer.of(3), randomBytes(1536)]));
          setTimeout(() => socket.destroy(), 3000);
          return;
        case AbortMode.RtmpHang:
          socket.write(Buffer.concat([Buffer.of(3), c1Part]));
          break;
        case AbortMode.HttpCloseMidRequest:
        case AbortMode.HttpHang: {
          const req = `GET /${key}.flv HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: soak\r\n`;
          socket.write(req.slice(0, 1 + Math.floor(this.rng.next() * (req.length - 1))));
          if (mode === AbortMode.HttpCloseMidRequest) {
            setTimeout(() => socket.destroy(), this.rng.between(0, 300));
            return;
          }
          break;
        }
        case AbortMode.WsCloseMidUpgrade: {
          const req =
            `GET /${key}.flv HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n`;
          socket.write(req.slice(0, 1 + Math.floor(this.rng.next() * (req.length - 1))));
          setTimeout(() => socket.destroy(), this.rng.between(0, 300));
          return;
        }
      }
      // A hanging client: the edge must close it before the deadline.
      const deadline = rtmp ? HANG_DEADLINE_MS.rtmp : HANG_DEADLINE_MS.http;
      entry.timer = setTimeout(() => {
        entry.timer = null;
        entry.ours = true;
        this.s.hangsNotClosed++;
        this.s.lastError = `${mode} to ${edge.nodeId} still open after ${deadline} ms`;
        socket.destroy();
      }, deadline);
    });
  }
}
