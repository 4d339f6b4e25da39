import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { isProtocolError, ProtocolError } from '../../../libs/errors/protocol-error.ts';
import {
  formatSessionHeader,
  newSessionId,
  parseSessionHeader,
  RtspHeaders,
  RtspReader,
  serializeResponse,
  statusReason,
  type RtspRequest,
} from '../../../libs/rtsp/index.ts';
import type { RtspContext } from './context.ts';
import { PlaySession } from './play-session.ts';
import { RecordSession } from './record-session.ts';
import type { Reply } from './reply.ts';

const PUBLIC =
  'OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, RECORD, TEARDOWN, GET_PARAMETER, SET_PARAMETER';

/** Requests waiting behind one that is being answered (a DESCRIBE that waits for a publisher). */
const MAX_QUEUED_REQUESTS = 16;

/** How often session and idle timeouts are checked. */
const TIMEOUT_CHECK_MS = 1_000;

export type RtspProto = 'rtsp' | 'rtsps';

/**
 * One RTSP control connection: requests answered in order (pipelined ones queue), interleaved
 * RTP/RTCP handed to its session. A connection has at most one session; closing the connection
 * ends it (as with lal and most cameras' clients, which keep the connection for the session).
 */
export class RtspConnection {
  readonly id: string;
  readonly socket: Socket;
  readonly proto: RtspProto;
  readonly remote: string;
  readonly log: Logger;
  private readonly ctx: RtspContext;
  private readonly reader = new RtspReader();
  private readonly queue: RtspRequest[] = [];
  private busy = false;
  private closed = false;
  session: PlaySession | RecordSession | null = null;
  /** The RTSP Session id, once SETUP made one. */
  sessionId: string | null = null;
  private lastSeen = performance.now();
  private readonly openedAt = performance.now();
  private readonly timer: NodeJS.Timeout;
  readonly startedAt = Date.now();
  bytesIn = 0;
  /** Why the server ended it (kick, timeout), for the stop event. */
  endReason: string | undefined;
  private readonly onClosed: (c: RtspConnection) => void;

  constructor(
    id: string,
    socket: Socket,
    proto: RtspProto,
    ctx: RtspContext,
    onClosed: (c: RtspConnection) => void,
  ) {
    this.id = id;
    this.socket = socket;
    this.proto = proto;
    this.ctx = ctx;
    this.onClosed = onClosed;
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.log = ctx.log.child({ session: id, remote: this.remote, ...(proto === 'rtsps' ? { proto } : {}) });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE')
        this.log.info({ err: e.message }, 'rtsp socket error');
    });
    socket.on('close', () => this.close());
    this.timer = setInterval(() => this.checkTimeouts(), TIMEOUT_CHECK_MS);
    this.timer.unref();
  }

  /** The client showed it is alive (a request, RTCP, media). */
  touch(): void {
    this.lastSeen = performance.now();
  }

  /** Ends the connection and its session. */
  destroy(reason?: string): void {
    if (reason && !this.endReason) this.endReason = reason;
    this.socket.destroy();
    this.close();
  }

  private checkTimeouts(): void {
    const now = performance.now();
    if (!this.session) {
      if (now - this.openedAt > this.ctx.idleTimeoutMs && now - this.lastSeen > this.ctx.idleTimeoutMs) {
        this.ctx.counters.inc('rtsp_timeouts', 1, { kind: 'idle' });
        this.log.info({ idleMs: Math.round(now - this.lastSeen) }, 'rtsp connection idle, closing');
        this.destroy('idle');
      }
      return;
    }
    const limit =
      this.session.kind === 'record' && this.session.recording
        ? Math.min(this.ctx.sessionTimeoutS * 1000, this.ctx.publishIdleTimeoutMs)
        : this.ctx.sessionTimeoutS * 1000;
    const since =
      this.session.kind === 'record' && this.session.recording
        ? now - this.session.lastMediaAt
        : now - this.lastSeen;
    if (since > limit) {
      this.ctx.counters.inc('rtsp_timeouts', 1, { kind: this.session.kind });
      this.log.warn({ silentMs: Math.round(since), timeoutMs: limit }, 'rtsp session timed out');
      this.destroy('timeout');
    }
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.bytesIn += chunk.length;
    let items;
    try {
      items = this.reader.push(chunk);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      this.protocolError(e);
      return;
    }
    for (const item of items) {
      if (this.closed) return;
      if (item.type === 'request') {
        this.touch();
        if (this.queue.length >= MAX_QUEUED_REQUESTS) {
          this.protocolError(
            new ProtocolError('RTSP_TOO_MANY_PIPELINED', `more than ${MAX_QUEUED_REQUESTS} requests waiting`),
          );
          return;
        }
        this.queue.push(item.request);
      } else if (item.type === 'interleaved') {
        this.touch();
        const session = this.session;
        if (session && !this.safely(() => session.interleaved(item.channel, item.payload))) return;
      }
      // Responses: we send no requests, so a client's response is noise; ignored.
    }
    void this.pump();
  }

  /**
   * Runs work from a socket, datagram or timer callback, where a throw would end the process:
   * bad input ends this connection with a 400; anything else (a bug) is logged and ends it too.
   * False when the connection ended.
   */
  safely(work: () => void): boolean {
    if (this.closed) return false;
    try {
      work();
      return true;
    } catch (e) {
      if (isProtocolError(e)) this.protocolError(e);
      else {
        this.log.error({ err: e }, 'rtsp session failed');
        this.destroy('error');
      }
      return false;
    }
  }

  private protocolError(e: ProtocolError): void {
    this.ctx.counters.inc('protocol_errors', 1, { proto: this.proto, code: e.code });
    this.log.warn({ code: e.code, err: e.message }, 'rtsp session closed on protocol error');
    if (!this.socket.destroyed && this.socket.writable) {
      const headers = new RtspHeaders().set('Connection', 'close');
      this.socket.end(serializeResponse({ status: 400, headers }));
    }
    this.endReason ??= 'protocol-error';
    this.close();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let req = this.queue.shift(); req && !this.closed; req = this.queue.shift()) {
        let reply: Reply;
        try {
          reply = await this.handle(req);
        } catch (e) {
          if (!isProtocolError(e)) {
            this.log.error({ err: e, method: req.method }, 'rtsp request failed');
            reply = { status: 500 };
          } else {
            this.ctx.counters.inc('protocol_errors', 1, { proto: this.proto, code: e.code });
            this.log.warn({ code: e.code, err: e.message, method: req.method }, 'bad rtsp request');
            reply = { status: 400 };
          }
        }
        this.send(req, reply);
      }
    } finally {
      this.busy = false;
    }
  }

  private send(req: RtspRequest, reply: Reply): void {
    if (this.closed || this.socket.destroyed) return;
    const headers = new RtspHeaders();
    const cseq = req.headers.get('cseq');
    if (cseq !== undefined) headers.set('CSeq', cseq);
    headers.set('Server', 'Sluice');
    for (const [k, v] of reply.headers ?? []) headers.append(k, v);
    if (this.sessionId && reply.status < 300 && !(reply.headers ?? []).some(([k]) => k === 'Session')) {
      headers.set('Session', formatSessionHeader(this.sessionId, this.ctx.sessionTimeoutS));
    }
    const bytes = serializeResponse({
      status: reply.status,
      reason: statusReason(reply.status),
      headers,
      ...(reply.body ? { body: reply.body } : {}),
    });
    this.socket.write(bytes);
    if (reply.after) {
      try {
        reply.after();
      } catch (err) {
        // Never out of here: pump() runs unawaited, so a throw would end the process.
        this.log.error({ err }, 'rtsp session failed after its answer');
        this.destroy('error');
        return;
      }
    }
    if (reply.close) this.destroy(reply.closeReason);
  }

  private async handle(req: RtspRequest): Promise<Reply> {
    if (req.headers.get('cseq') === undefined) return { status: 400, close: true, closeReason: 'no-cseq' };
    const sessionHeader = req.headers.get('session');
    if (sessionHeader !== undefined && this.sessionId !== null) {
      const { id } = parseSessionHeader(sessionHeader);
      if (id !== this.sessionId) return { status: 454 };
    } else if (
      sessionHeader !== undefined &&
      this.sessionId === null &&
      req.method !== 'SETUP' &&
      req.method !== 'OPTIONS' &&
      req.method !== 'GET_PARAMETER'
    ) {
      return { status: 454 };
    }
    switch (req.method) {
      case 'OPTIONS':
        return { status: 200, headers: [['Public', PUBLIC]] };
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        // Keepalives (RFC 2326 §10.8): the answer is all they need.
        return { status: 200, headers: [['Content-Length', '0']] };
      case 'DESCRIBE':
        return this.describe(req);
      case 'ANNOUNCE':
        return this.announce(req);
      case 'SETUP':
        return this.setup(req);
      case 'PLAY':
        if (this.session?.kind !== 'play') return { status: 455 };
        return this.session.play(req);
      case 'RECORD':
        if (this.session?.kind !== 'record') return { status: 455 };
        return this.session.record(req);
      case 'PAUSE':
        if (this.session?.kind !== 'play') return { status: 455 };
        return this.session.pause();
      case 'TEARDOWN':
        // The session ends; the connection stays for the client to reuse or close (RFC 2326
        // §10.7), under the idle timeout again.
        this.session?.close('teardown');
        this.session = null;
        this.sessionId = null;
        return { status: 200 };
      default:
        return { status: 501, headers: [['Public', PUBLIC]] };
    }
  }

  /**
   * A DESCRIBE makes the connection a player's; one that finds nothing to play (401, 404, an
   * error) leaves it as it was, so it can still publish and keeps the idle timeout.
   */
  private async describe(req: RtspRequest): Promise<Reply> {
    if (this.session?.kind === 'record') return { status: 455 };
    const fresh = !this.session;
    const s = this.session ?? new PlaySession(this, this.ctx);
    this.session = s;
    let reply: Reply = { status: 500 };
    try {
      reply = await s.describe(req);
      return reply;
    } finally {
      if (fresh && reply.status !== 200 && this.session === s) {
        s.close('refused');
        this.session = null;
      }
    }
  }

  private async announce(req: RtspRequest): Promise<Reply> {
    if (this.session) return { status: 455 };
    const s = new RecordSession(this, this.ctx);
    this.session = s;
    let reply: Reply = { status: 500 };
    try {
      reply = await s.announce(req);
      return reply;
    } finally {
      // A refusal or a bad SDP (the error answers 400) leaves the connection as it was.
      if (reply.status !== 200 && this.session === s) {
        s.close('refused');
        this.session = null;
      }
    }
  }

  private async setup(req: RtspRequest): Promise<Reply> {
    if (!this.session) return { status: 455 };
    const reply = await this.session.setup(req);
    if (reply.status === 200 && this.sessionId === null) {
      this.sessionId = newSessionId();
    }
    return reply;
  }

  /** Socket closed or destroyed: end the session once. */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.queue.length = 0;
    this.session?.close(this.endReason ?? 'disconnected');
    this.session = null;
    if (!this.socket.destroyed) this.socket.destroy();
    this.onClosed(this);
  }
}
