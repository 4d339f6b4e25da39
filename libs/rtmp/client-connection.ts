import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { AmfObject, AmfValue } from '../amf/index.ts';
import { splitAggregate } from './aggregate.ts';
import type { ChunkReaderLimits } from './chunk-reader.ts';
import { parseRtmpUrl, type RtmpUrl } from './client-url.ts';
import { commandMessage, Csid, parseCommand, StatusCode, type RtmpCommand } from './commands.ts';
import { userControlMessage } from './control.ts';
import { HandshakeClient } from './handshake-client.ts';
import { MessageType, UserControlEvent, type RtmpMessage } from './message-types.ts';
import { RtmpTransport } from './transport.ts';

export interface RtmpClientOptions {
  /** Bound on TCP connect + handshake + connect, and on each publish()/play() (default 10000). */
  timeoutMs?: number;
  /** Chunk size we send with (default 4096). */
  outChunkSize?: number;
  /** Send a digest C1 (default false: a simple handshake, which every server accepts). */
  complexHandshake?: boolean;
  /** Extra properties of the connect command object (e.g. a relay credential). */
  connectArgs?: Record<string, AmfValue>;
  limits?: Partial<ChunkReaderLimits>;
  /** rtmps: TLS options (a private CA for tests, or rejectUnauthorized); SNI is the URL's host. */
  tls?: Pick<ConnectionOptions, 'ca' | 'rejectUnauthorized'>;
}

/** A failed client operation. `code` is an onStatus/_error code, RTMP_TIMEOUT, RTMP_CLOSED or a socket code. */
export class RtmpClientError extends Error {
  override readonly name = 'RtmpClientError';
  readonly code: string;
  /** The info object of the onStatus or _error that caused it, if any. */
  readonly info: AmfObject | null;

  constructor(code: string, message: string, info: AmfObject | null = null, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.info = info;
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_OUT_CHUNK_SIZE = 4096;
/** Window acknowledgement size we ask the server to use, as ffmpeg and FMLE do (RTMP spec §5.4.4). */
const WINDOW_ACK_SIZE = 2_500_000;
/** SetBufferLength we announce when playing (§7.1.7); servers use it only as a hint. */
const PLAY_BUFFER_MS = 3000;
/** How long close() waits for the server to take our FIN before destroying the socket. */
const CLOSE_LINGER_MS = 2000;
/** Like ffmpeg: `play` start -2000 means "live, or recorded if there is no live stream". */
const PLAY_START_ANY = -2000;

const ClientState = {
  Connecting: 'connecting',
  Connected: 'connected',
  Publishing: 'publishing',
  Playing: 'playing',
  Closed: 'closed',
} as const;
type ClientState = (typeof ClientState)[keyof typeof ClientState];

interface PendingOp {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  /** The onStatus code that completes it (publish/play), or null (connect). */
  successCode: string | null;
}

const asObject = (v: AmfValue): AmfObject | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) ? (v as AmfObject) : null;

/**
 * The client side of one RTMP connection (Adobe RTMP spec §7.2): handshake, connect,
 * then either publish (sendMedia) or play (onMedia). One operation at a time; each is
 * bounded by `timeoutMs`. The connection is usable by one publish or one play.
 */
export class RtmpClient {
  readonly app: string;
  readonly streamName: string;
  readonly socket: Socket;
  onMedia: ((msg: RtmpMessage) => void) | null = null;
  onStatus: ((info: AmfObject) => void) | null = null;
  onClose: ((err: Error | null) => void) | null = null;

  private readonly url: RtmpUrl;
  private readonly opts: RtmpClientOptions;
  private readonly timeoutMs: number;
  private readonly transport: RtmpTransport;
  private state: ClientState = ClientState.Connecting;
  private op: PendingOp | null = null;
  private readonly calls = new Map<number, (cmd: RtmpCommand) => void>();
  private nextTxn = 1;
  private activeStreamId = 0;
  private totalIn = 0;
  private closeError: Error | null = null;

  private constructor(url: RtmpUrl, opts: RtmpClientOptions) {
    this.url = url;
    this.opts = opts;
    this.app = url.app;
    this.streamName = url.streamName;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.socket = url.secure
      ? tlsConnect({
          host: url.host,
          port: url.port,
          ...(isIP(url.host) === 0 ? { servername: url.host } : {}),
          ...opts.tls,
        })
      : netConnect({ host: url.host, port: url.port });
    this.socket.setNoDelay(true);
    const limits = opts.limits ? { limits: opts.limits } : {};
    this.transport = new RtmpTransport(this.socket, limits, (m) => this.onMessage(m));
    const handshake = new HandshakeClient({ complex: opts.complexHandshake ?? false });
    this.transport.expectHandshake(handshake, () => this.sendConnect());
    this.socket.on(url.secure ? 'secureConnect' : 'connect', () => this.socket.write(handshake.start()));
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (e) => {
      this.closeError ??= e;
    });
    this.socket.on('close', () => this.onClosed());
  }

  /** TCP + handshake + connect; resolves once the server answered connect with _result. */
  static connect(url: string, opts: RtmpClientOptions = {}): Promise<RtmpClient> {
    let client: RtmpClient;
    try {
      client = new RtmpClient(parseRtmpUrl(url), opts);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return client.run('connect', null, () => undefined).then(() => client);
  }

  /** Bytes received on the socket, handshake included. */
  get bytesIn(): number {
    return this.totalIn;
  }

  /** The message stream id of the publish or play, 0 before. */
  get streamId(): number {
    return this.activeStreamId;
  }

  /** The chunk size this client sends with (set at connect). */
  get outChunkSize(): number {
    return this.opts.outChunkSize ?? DEFAULT_OUT_CHUNK_SIZE;
  }

  /**
   * Bytes already chunked for this connection's chunk size and publish stream id (a hub's shared
   * RTMP output for a relay push), written as they are. Only while publishing.
   */
  sendRaw(buf: Buffer): void {
    if (this.state !== ClientState.Publishing || !this.socket.writable) return;
    this.socket.write(buf);
  }

  /** Bytes written but not yet taken by the kernel: a publisher's backpressure signal. */
  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  /** releaseStream, FCPublish, createStream, publish(name, 'live'); resolves on NetStream.Publish.Start. */
  publish(): Promise<void> {
    return this.run('publish', StatusCode.PublishStart, () => {
      this.call('releaseStream', [this.streamName]);
      this.call('FCPublish', [this.streamName]);
      this.createStream((id) => {
        this.state = ClientState.Publishing;
        this.transport.send(commandMessage('publish', 0, null, [this.streamName, 'live'], id));
      });
    });
  }

  /** createStream, play(name); resolves on NetStream.Play.Start. */
  play(): Promise<void> {
    return this.run('play', StatusCode.PlayStart, () => {
      this.createStream((id) => {
        this.state = ClientState.Playing;
        this.transport.send(userControlMessage(UserControlEvent.SetBufferLength, id, PLAY_BUFFER_MS));
        this.transport.send(commandMessage('play', 0, null, [this.streamName, PLAY_START_ANY], id));
      });
    });
  }

  /** One audio (8), video (9) or data (18) message on the published stream, FLV tag body as payload. */
  sendMedia(typeId: 8 | 9 | 18, timestamp: number, payload: Buffer): void {
    if (this.state === ClientState.Closed) return;
    if (this.state !== ClientState.Publishing) throw new Error(`sendMedia while ${this.state}`);
    const csid =
      typeId === MessageType.Audio ? Csid.Audio : typeId === MessageType.Video ? Csid.Video : Csid.Data;
    this.transport.send({ csid, typeId, streamId: this.activeStreamId, timestamp: timestamp >>> 0, payload });
  }

  /** Ends the publish or play politely (FCUnpublish/deleteStream), then the connection. */
  close(): void {
    if (this.state === ClientState.Closed || this.socket.destroyed) return;
    this.settle(new RtmpClientError('RTMP_CLOSED', 'client closed the connection'));
    if (this.activeStreamId !== 0 && this.socket.writable) {
      if (this.state === ClientState.Publishing) this.call('FCUnpublish', [this.streamName]);
      this.transport.send(commandMessage('deleteStream', 0, null, [this.activeStreamId]));
    }
    this.state = ClientState.Closed;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS).unref();
  }

  /** Starts an operation bounded by timeoutMs; only one runs at a time. */
  private run(what: string, successCode: string | null, start: () => void): Promise<void> {
    if (this.state === ClientState.Closed) {
      return Promise.reject(new RtmpClientError('RTMP_CLOSED', `${what} on a closed connection`));
    }
    if (this.op)
      return Promise.reject(new RtmpClientError('RTMP_BUSY', `${what} while another operation is pending`));
    if (successCode !== null && this.state !== ClientState.Connected) {
      return Promise.reject(new RtmpClientError('RTMP_BAD_STATE', `${what} while ${this.state}`));
    }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          this.fail(
            new RtmpClientError('RTMP_TIMEOUT', `${what} did not complete within ${this.timeoutMs} ms`),
          ),
        this.timeoutMs,
      );
      this.op = { resolve, reject, timer, successCode };
      start();
    });
  }

  private settle(err: Error | null): void {
    const op = this.op;
    if (!op) return;
    this.op = null;
    clearTimeout(op.timer);
    if (err) op.reject(err);
    else op.resolve();
  }

  private fail(err: Error): void {
    this.closeError ??= err;
    this.settle(err);
    this.socket.destroy();
  }

  private onData(data: Buffer): void {
    this.totalIn += data.length;
    if (this.state === ClientState.Closed) return; // after close(): draining until the FIN
    try {
      this.transport.receive(data);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private onClosed(): void {
    const wasClosed = this.state === ClientState.Closed;
    this.state = ClientState.Closed;
    const err = this.closeError;
    this.settle(err ?? new RtmpClientError('RTMP_CLOSED', 'server closed the connection'));
    this.calls.clear();
    // A close we asked for is a clean end even if the socket reported an error on the way.
    this.onClose?.(wasClosed ? null : err);
  }

  private sendConnect(): void {
    this.transport.setOutChunkSize(this.opts.outChunkSize ?? DEFAULT_OUT_CHUNK_SIZE);
    const query = this.url.query;
    const obj: AmfObject = {
      // The query travels with the app too, so servers that authorize at connect see it.
      app: this.url.app + query,
      type: 'nonprivate',
      flashVer: 'LNX 9,0,124,2',
      tcUrl: this.url.tcUrl + query,
      fpad: false,
      capabilities: 15,
      audioCodecs: 4071,
      videoCodecs: 252,
      videoFunction: 1,
      objectEncoding: 0,
      ...this.opts.connectArgs,
    };
    this.call('connect', [], obj, (cmd) => {
      const info = asObject(cmd.args[0] ?? null);
      if (cmd.name === '_result') {
        this.state = ClientState.Connected;
        this.transport.sendWindowAckSize(WINDOW_ACK_SIZE);
        this.settle(null);
        return;
      }
      const code = typeof info?.code === 'string' ? info.code : StatusCode.ConnectRejected;
      this.fail(new RtmpClientError(code, `connect refused: ${describe(info)}`, info));
    });
  }

  private createStream(then: (streamId: number) => void): void {
    this.call('createStream', [], null, (cmd) => {
      const id = cmd.args[0];
      if (cmd.name !== '_result' || typeof id !== 'number' || !Number.isInteger(id) || id <= 0) {
        const info = asObject(cmd.args[0] ?? null);
        const code = typeof info?.code === 'string' ? info.code : 'RTMP_CREATE_STREAM_FAILED';
        this.settle(new RtmpClientError(code, `createStream failed: ${describe(info)}`, info));
        return;
      }
      this.activeStreamId = id;
      then(id);
    });
  }

  /** Sends a NetConnection command with a fresh transaction id; `onReply` gets its _result/_error. */
  private call(
    name: string,
    args: AmfValue[],
    obj: AmfValue = null,
    onReply?: (cmd: RtmpCommand) => void,
  ): void {
    const txn = this.nextTxn++;
    if (onReply) this.calls.set(txn, onReply);
    this.transport.send(commandMessage(name, txn, obj, args));
  }

  private onMessage(msg: RtmpMessage): void {
    switch (msg.typeId) {
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        this.onCommand(parseCommand(msg), msg);
        return;
      case MessageType.Audio:
      case MessageType.Video:
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
        if (this.state === ClientState.Playing && msg.streamId === this.activeStreamId) this.onMedia?.(msg);
        return;
      case MessageType.Aggregate:
        if (this.state === ClientState.Playing && msg.streamId === this.activeStreamId) {
          for (const sub of splitAggregate(msg)) this.onMedia?.(sub);
        }
        return;
      default:
        return; // StreamBegin/StreamEOF and other user control events: informational
    }
  }

  private onCommand(cmd: RtmpCommand, msg: RtmpMessage): void {
    if (cmd.name === '_result' || cmd.name === '_error') {
      const reply = this.calls.get(cmd.transactionId);
      if (reply) {
        this.calls.delete(cmd.transactionId);
        reply(cmd);
      }
      return;
    }
    if (cmd.name !== 'onStatus') return; // onBWDone, onFCPublish, |RtmpSampleAccess...: nothing to do
    const info = asObject(cmd.args[0] ?? null) ?? {};
    this.onStatus?.(info);
    const op = this.op;
    if (!op || op.successCode === null || msg.streamId !== this.activeStreamId) return;
    if (info.code === op.successCode) this.settle(null);
    else if (info.level === 'error') {
      const code = typeof info.code === 'string' ? info.code : 'RTMP_STATUS_ERROR';
      this.settle(new RtmpClientError(code, `${describe(info)}`, info));
    }
  }
}

function describe(info: AmfObject | null): string {
  if (!info) return 'no status';
  const code = typeof info.code === 'string' ? info.code : '?';
  return typeof info.description === 'string' ? `${code} (${info.description})` : code;
}
