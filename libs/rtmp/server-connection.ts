import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { AmfObject } from '../amf/index.ts';
import { ProtocolError } from '../errors/protocol-error.ts';
import { splitAggregate } from './aggregate.ts';
import type { ChunkReaderLimits, InputCharge } from './chunk-reader.ts';
import {
  connectResultMessage,
  errorMessage,
  onStatusMessage,
  parseCommand,
  resultMessage,
  sampleAccessMessage,
  StatusCode,
  commandMessage,
  type RtmpCommand,
} from './commands.ts';
import { setPeerBandwidthMessage, streamBeginMessage, streamEofMessage } from './control.ts';
import { HandshakeServer } from './handshake-server.ts';
import { MessageType, type RtmpMessage } from './message-types.ts';
import { parseStreamName, type StreamName } from './stream-name.ts';
import { RtmpTransport } from './transport.ts';

export interface ServerConnectionOptions {
  outChunkSize: number;
  limits: Partial<ChunkReaderLimits>;
  complexHandshake: boolean;
  handshakeTimeoutMs: number;
  /** Close connections that neither publish nor play within this. */
  idleTimeoutMs: number;
  /** Close a publisher that sends no audio, video or metadata for this long. */
  publishIdleTimeoutMs: number;
  /** Window acknowledgement size we ask the peer to use (RTMP spec §5.4.4). */
  windowAckSize: number;
  /** The node-wide input memory budget (InputBudget): each connection charges an account it closes. */
  inputBudget?: { open(): InputCharge & { close(): void } };
}

export interface StreamRequest extends StreamName {
  streamId: number;
  tcUrl: string;
}

/** What the service layer does with a connection's requests. */
export interface ServerConnectionHandler {
  /** Decide and call `acceptPublish` or `rejectPublish`. */
  onPublish(conn: RtmpServerConnection, req: StreamRequest): void;
  /** Decide and call `acceptPlay` (later `startPlay`) or `rejectPlay`. */
  onPlay(conn: RtmpServerConnection, req: StreamRequest): void;
  /** The connect command was accepted (app, tcUrl and connectProps are set). */
  onConnect?(conn: RtmpServerConnection): void;
  /** Audio, video and metadata of an accepted publish. Timestamps are the publisher's. */
  onMedia(conn: RtmpServerConnection, msg: RtmpMessage): void;
  /**
   * The publish or play ended, however it ended: the client ended it (deleteStream,
   * closeStream, FCUnpublish), disconnected, or the server refused or ended it (`reason`:
   * not-found, unpublished, shutdown, refused). Called exactly once per accepted request.
   */
  onStreamEnd(conn: RtmpServerConnection, streamId: number, reason?: string): void;
  onClose(conn: RtmpServerConnection, error: Error | null): void;
}

/**
 * Message stream ids a connection may hold at once. Only ids returned by createStream are
 * accepted, and freed ids are reused, so ids stay small: each distinct id is a distinct
 * serialized form of every frame that a player on it receives.
 */
export const MAX_STREAMS_PER_CONNECTION = 8;

export const ConnState = {
  Handshake: 'handshake',
  Connecting: 'connecting',
  Connected: 'connected',
  Publishing: 'publishing',
  Playing: 'playing',
  /** Publish or play refused: the status is being flushed and everything else is ignored. */
  Refused: 'refused',
  Closed: 'closed',
} as const;
export type ConnState = (typeof ConnState)[keyof typeof ConnState];

/**
 * One RTMP server-side connection: handshake, connect, createStream, publish/play and the
 * rest of the NetConnection/NetStream commands. Policy (which streams exist, who may publish)
 * belongs to the handler.
 */
export class RtmpServerConnection {
  readonly id: string;
  readonly socket: Socket;
  readonly remote: string;
  state: ConnState = ConnState.Handshake;
  app = '';
  tcUrl = '';
  /** The connect command object as the client sent it (credentials live here, never logged). */
  connectProps: AmfObject = {};
  /** The stream id of the current publish or play, 0 when none. */
  activeStreamId = 0;
  activeRequest: StreamRequest | null = null;

  private readonly opts: ServerConnectionOptions;
  private readonly handler: ServerConnectionHandler;
  private readonly transport: RtmpTransport;
  /** Message stream ids returned by createStream and not deleted. */
  private readonly streamIds = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  /** Publishing: monotonic ms of the last audio, video or metadata message. */
  private lastMediaAt = 0;
  private mediaTimer: NodeJS.Timeout | null = null;
  private closeError: Error | null = null;
  private objectEncoding = 0;
  private readonly input: (InputCharge & { close(): void }) | undefined;

  constructor(id: string, socket: Socket, opts: ServerConnectionOptions, handler: ServerConnectionHandler) {
    this.id = id;
    this.socket = socket;
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.opts = opts;
    this.handler = handler;
    this.input = opts.inputBudget?.open();
    this.transport = new RtmpTransport(socket, { limits: opts.limits, input: this.input }, (m) =>
      this.onMessage(m),
    );
    this.transport.expectHandshake(new HandshakeServer({ complex: opts.complexHandshake }), () => {
      this.state = ConnState.Connecting;
      this.arm(this.opts.idleTimeoutMs, 'RTMP_IDLE_TIMEOUT', 'no publish or play in time');
    });
    socket.setNoDelay(true);
    this.arm(opts.handshakeTimeoutMs, 'RTMP_HANDSHAKE_TIMEOUT', 'handshake not finished in time');
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => {
      this.closeError ??= e;
    });
    socket.on('close', () => this.onClosed());
  }

  get bytesIn(): number {
    return this.transport.bytesIn;
  }

  get chunkSize(): number {
    return this.transport.chunkSize;
  }

  /** Ends the connection with an error that the handler's onClose receives. */
  fail(err: Error): void {
    this.closeError ??= err;
    this.socket.destroy();
  }

  private arm(ms: number, code: string, what: string): void {
    this.disarm();
    this.timer = setTimeout(() => this.fail(new ProtocolError(code, what)), ms);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private onData(data: Buffer): void {
    if (this.state === ConnState.Closed) return;
    try {
      this.transport.receive(data);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private onClosed(): void {
    if (this.state === ConnState.Closed) return;
    const wasActive = this.activeStreamId;
    this.state = ConnState.Closed;
    this.input?.close(); // whatever the parsers still held, on every path to here
    this.disarm();
    this.stopMediaTimer();
    if (wasActive) this.handler.onStreamEnd(this, wasActive);
    this.handler.onClose(this, this.closeError);
  }

  private onMessage(msg: RtmpMessage): void {
    if (this.state === ConnState.Refused) return;
    switch (msg.typeId) {
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        this.onCommand(parseCommand(msg), msg);
        return;
      case MessageType.Audio:
      case MessageType.Video:
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
        // One publish per connection; the stream id is not checked because some encoders
        // publish on stream 0 when they could not parse the createStream result.
        if (this.state === ConnState.Publishing) {
          this.lastMediaAt = performance.now();
          this.handler.onMedia(this, msg);
        } else if (msg.typeId === MessageType.Audio || msg.typeId === MessageType.Video) {
          throw new ProtocolError('RTMP_MEDIA_WITHOUT_PUBLISH', `media message while ${this.state}`);
        }
        return;
      case MessageType.Aggregate:
        if (this.state === ConnState.Publishing) {
          this.lastMediaAt = performance.now();
          for (const sub of splitAggregate(msg)) this.handler.onMedia(this, sub);
        }
        return;
      default:
        return; // user control events from players, shared objects: nothing to do
    }
  }

  private onCommand(cmd: RtmpCommand, msg: RtmpMessage): void {
    if (cmd.name !== 'connect' && this.state === ConnState.Connecting) {
      throw new ProtocolError('RTMP_COMMAND_BEFORE_CONNECT', `command before connect`);
    }
    switch (cmd.name) {
      case 'connect':
        this.onConnect(cmd, msg);
        return;
      case 'createStream': {
        const id = this.allocStreamId();
        if (id === 0) {
          this.transport.send(
            errorMessage(
              cmd.transactionId,
              'NetConnection.Call.Failed',
              'too many streams on this connection',
            ),
          );
          return;
        }
        this.transport.send(resultMessage(cmd.transactionId, id));
        return;
      }
      case 'releaseStream':
      case 'FCPublish':
        // Legacy FMS handshake around publish; answering keeps OBS and ffmpeg moving.
        if (cmd.transactionId) this.transport.send(resultMessage(cmd.transactionId));
        if (cmd.name === 'FCPublish') this.transport.send(commandMessage('onFCPublish', 0, null, []));
        return;
      case 'getStreamLength':
        if (cmd.transactionId) this.transport.send(resultMessage(cmd.transactionId, 0));
        return;
      case 'publish':
        this.onPublishOrPlay(cmd, msg, 'publish');
        return;
      case 'play':
        this.onPublishOrPlay(cmd, msg, 'play');
        return;
      case 'FCUnpublish':
      case 'closeStream':
        this.endActive(msg.streamId || this.activeStreamId);
        return;
      case 'deleteStream': {
        const id = (typeof cmd.args[0] === 'number' ? cmd.args[0] : msg.streamId) || this.activeStreamId;
        this.endActive(id);
        this.streamIds.delete(id);
        return;
      }
      default:
        // Unknown commands (e.g. custom calls) get an _error so RPC-style clients don't hang.
        if (cmd.transactionId)
          this.transport.send(
            errorMessage(cmd.transactionId, 'NetConnection.Call.Failed', 'unsupported command'),
          );
    }
  }

  private onConnect(cmd: RtmpCommand, _msg: RtmpMessage): void {
    if (this.state !== ConnState.Connecting) {
      throw new ProtocolError('RTMP_DUPLICATE_CONNECT', 'connect sent twice');
    }
    const obj = (cmd.commandObject ?? {}) as AmfObject;
    this.connectProps = typeof obj === 'object' && !Array.isArray(obj) ? obj : {};
    this.app = typeof obj.app === 'string' ? obj.app : '';
    this.tcUrl = typeof obj.tcUrl === 'string' ? obj.tcUrl : '';
    this.objectEncoding = typeof obj.objectEncoding === 'number' ? obj.objectEncoding : 0;
    this.state = ConnState.Connected;
    this.transport.sendWindowAckSize(this.opts.windowAckSize);
    this.transport.send(setPeerBandwidthMessage(this.opts.windowAckSize, 2));
    this.transport.setOutChunkSize(this.opts.outChunkSize);
    this.transport.send(connectResultMessage(cmd.transactionId, this.objectEncoding));
    this.handler.onConnect?.(this);
  }

  private onPublishOrPlay(cmd: RtmpCommand, msg: RtmpMessage, kind: 'publish' | 'play'): void {
    if (this.state !== ConnState.Connected) {
      throw new ProtocolError('RTMP_BAD_STATE', `${kind} while ${this.state}`);
    }
    const rawName = cmd.args[0];
    const streamId = this.resolveStreamId(msg.streamId);
    if (streamId === 0) {
      throw new ProtocolError(
        'RTMP_UNKNOWN_STREAM_ID',
        `${kind} on message stream ${msg.streamId}, not created`,
      );
    }
    let name: StreamName;
    try {
      if (typeof rawName !== 'string')
        throw new ProtocolError('RTMP_BAD_STREAM_NAME', 'stream name is not a string');
      name = parseStreamName(this.app, rawName);
    } catch (e) {
      if (kind === 'publish') this.rejectPublish(streamId, StatusCode.PublishBadName, 'invalid stream name');
      else this.rejectPlay(streamId, 'invalid stream name');
      throw e;
    }
    this.disarm();
    const req: StreamRequest = { ...name, streamId, tcUrl: this.tcUrl };
    this.activeStreamId = streamId;
    this.activeRequest = req;
    if (kind === 'publish') {
      this.state = ConnState.Publishing;
      this.handler.onPublish(this, req);
    } else {
      this.state = ConnState.Playing;
      this.handler.onPlay(this, req);
    }
  }

  /** The lowest free message stream id, 0 when the connection holds the maximum. */
  private allocStreamId(): number {
    for (let id = 1; id <= MAX_STREAMS_PER_CONNECTION; id++) {
      if (!this.streamIds.has(id)) {
        this.streamIds.add(id);
        return id;
      }
    }
    return 0;
  }

  /**
   * The stream id a publish or play names, if createStream gave it. Stream 0 means the
   * latest created one (or a new one): some encoders publish on 0 when they could not parse
   * the createStream result. Any other id is refused (0 returned).
   */
  private resolveStreamId(id: number): number {
    if (this.streamIds.has(id)) return id;
    if (id !== 0) return 0;
    let last = 0;
    for (const x of this.streamIds) last = Math.max(last, x);
    return last || this.allocStreamId();
  }

  private endActive(streamId: number): void {
    if (!this.activeStreamId || streamId !== this.activeStreamId) return;
    const wasPublishing = this.state === ConnState.Publishing;
    this.activeStreamId = 0;
    this.activeRequest = null;
    this.state = ConnState.Connected;
    this.stopMediaTimer();
    this.handler.onStreamEnd(this, streamId);
    if (wasPublishing) {
      this.transport.send(
        onStatusMessage(streamId, 'status', StatusCode.UnpublishSuccess, 'Stream unpublished.'),
      );
    }
    this.arm(this.opts.idleTimeoutMs, 'RTMP_IDLE_TIMEOUT', 'no publish or play in time');
  }

  acceptPublish(req: StreamRequest): void {
    this.lastMediaAt = performance.now();
    this.armMediaTimer(this.opts.publishIdleTimeoutMs);
    this.transport.send(
      onStatusMessage(req.streamId, 'status', StatusCode.PublishStart, `${req.name} is now published.`),
    );
  }

  /**
   * Only media keeps a publish alive: acknowledgements, pings or commands do not, so a
   * publisher that stalled but keeps its connection chatting is still ended.
   */
  private armMediaTimer(ms: number): void {
    this.mediaTimer = setTimeout(() => {
      this.mediaTimer = null;
      if (this.state !== ConnState.Publishing) return;
      const left = this.lastMediaAt + this.opts.publishIdleTimeoutMs - performance.now();
      if (left > 0) this.armMediaTimer(left);
      else this.fail(new ProtocolError('RTMP_PUBLISH_IDLE_TIMEOUT', 'publisher sent no media in time'));
    }, ms);
    this.mediaTimer.unref();
  }

  private stopMediaTimer(): void {
    if (this.mediaTimer) clearTimeout(this.mediaTimer);
    this.mediaTimer = null;
  }

  /** Refuses the publish and closes the connection once the status is flushed. */
  rejectPublish(streamId: number, code: string, description: string): void {
    if (this.ended) return;
    this.transport.send(onStatusMessage(streamId, 'error', code, description));
    this.refuse('refused');
  }

  /** The stream is there: StreamBegin, Play.Reset, Play.Start, |RtmpSampleAccess. */
  startPlay(req: StreamRequest): void {
    this.transport.send(streamBeginMessage(req.streamId));
    this.transport.send(
      onStatusMessage(req.streamId, 'status', StatusCode.PlayReset, `Playing and resetting ${req.name}.`),
    );
    this.transport.send(
      onStatusMessage(req.streamId, 'status', StatusCode.PlayStart, `Started playing ${req.name}.`),
    );
    this.transport.send(sampleAccessMessage(req.streamId));
  }

  /** Play.StreamNotFound (or `code`), then close. */
  rejectPlay(
    streamId: number,
    description: string,
    reason = 'refused',
    code: string = StatusCode.PlayStreamNotFound,
  ): void {
    if (this.ended) return;
    this.transport.send(onStatusMessage(streamId, 'error', code, description));
    this.refuse(reason);
  }

  /** The publisher is gone for good (or the server stops): UnpublishNotify + StreamEOF, then close. */
  endPlay(streamId: number, reason = 'unpublished'): void {
    if (this.ended) return;
    this.transport.send(
      onStatusMessage(streamId, 'status', StatusCode.PlayUnpublishNotify, 'Stream is unpublished.'),
    );
    this.transport.send(streamEofMessage(streamId));
    this.refuse(reason);
  }

  /** Ends the connection after the last status; an accepted publish or play is reported ended. */
  /** Refused or closed: nothing more is sent. */
  private get ended(): boolean {
    return this.state === ConnState.Refused || this.state === ConnState.Closed;
  }

  private refuse(reason: string): void {
    if (this.ended) return;
    const active = this.activeStreamId;
    this.state = ConnState.Refused;
    this.activeStreamId = 0;
    this.activeRequest = null;
    this.disarm();
    this.stopMediaTimer();
    if (active) this.handler.onStreamEnd(this, active, reason);
    this.socket.end();
    // A peer that never reads our FIN-ed side must not hold the socket forever.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  /** Shared, already-chunked media bytes for a player. */
  sendRaw(buf: Buffer): void {
    this.socket.write(buf);
  }
}
