import type { Socket } from 'node:net';
import type { AmfObject } from '../amf/index.ts';
import { ProtocolError } from '../errors/protocol-error.ts';
import { splitAggregate } from './aggregate.ts';
import type { ChunkReaderLimits } from './chunk-reader.ts';
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
  /** Close a publisher that sends nothing for this long. */
  publishIdleTimeoutMs: number;
  /** Window acknowledgement size we ask the peer to use (RTMP spec §5.4.4). */
  windowAckSize: number;
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
  /** Audio, video and metadata of an accepted publish. Timestamps are the publisher's. */
  onMedia(conn: RtmpServerConnection, msg: RtmpMessage): void;
  /** The client ended its publish or play (deleteStream, closeStream, FCUnpublish) or disconnected. */
  onStreamEnd(conn: RtmpServerConnection, streamId: number): void;
  onClose(conn: RtmpServerConnection, error: Error | null): void;
}

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
  private nextStreamId = 1;
  private timer: NodeJS.Timeout | null = null;
  private closeError: Error | null = null;
  private objectEncoding = 0;

  constructor(id: string, socket: Socket, opts: ServerConnectionOptions, handler: ServerConnectionHandler) {
    this.id = id;
    this.socket = socket;
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.opts = opts;
    this.handler = handler;
    this.transport = new RtmpTransport(socket, { limits: opts.limits }, (m) => this.onMessage(m));
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
    this.disarm();
    this.socket.setTimeout(0);
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
          this.handler.onMedia(this, msg);
        } else if (msg.typeId === MessageType.Audio || msg.typeId === MessageType.Video) {
          throw new ProtocolError('RTMP_MEDIA_WITHOUT_PUBLISH', `media message while ${this.state}`);
        }
        return;
      case MessageType.Aggregate:
        if (this.state === ConnState.Publishing) {
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
      case 'createStream':
        this.transport.send(resultMessage(cmd.transactionId, this.nextStreamId++));
        return;
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
      case 'deleteStream':
        this.endActive(
          cmd.name === 'deleteStream' && typeof cmd.args[0] === 'number'
            ? cmd.args[0]
            : msg.streamId || this.activeStreamId,
        );
        return;
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
  }

  private onPublishOrPlay(cmd: RtmpCommand, msg: RtmpMessage, kind: 'publish' | 'play'): void {
    if (this.state !== ConnState.Connected) {
      throw new ProtocolError('RTMP_BAD_STATE', `${kind} while ${this.state}`);
    }
    const rawName = cmd.args[0];
    const streamId = msg.streamId || 1;
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

  private endActive(streamId: number): void {
    if (!this.activeStreamId || streamId !== this.activeStreamId) return;
    const wasPublishing = this.state === ConnState.Publishing;
    this.activeStreamId = 0;
    this.activeRequest = null;
    this.state = ConnState.Connected;
    this.socket.setTimeout(0);
    this.handler.onStreamEnd(this, streamId);
    if (wasPublishing) {
      this.transport.send(
        onStatusMessage(streamId, 'status', StatusCode.UnpublishSuccess, 'Stream unpublished.'),
      );
    }
    this.arm(this.opts.idleTimeoutMs, 'RTMP_IDLE_TIMEOUT', 'no publish or play in time');
  }

  acceptPublish(req: StreamRequest): void {
    this.socket.setTimeout(this.opts.publishIdleTimeoutMs, () =>
      this.fail(new ProtocolError('RTMP_PUBLISH_IDLE_TIMEOUT', 'publisher sent nothing in time')),
    );
    this.transport.send(
      onStatusMessage(req.streamId, 'status', StatusCode.PublishStart, `${req.name} is now published.`),
    );
  }

  /** Refuses the publish and closes the connection once the status is flushed. */
  rejectPublish(streamId: number, code: string, description: string): void {
    this.transport.send(onStatusMessage(streamId, 'error', code, description));
    this.refuse();
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

  /** Play.StreamNotFound, then close. */
  rejectPlay(streamId: number, description: string): void {
    this.transport.send(onStatusMessage(streamId, 'error', StatusCode.PlayStreamNotFound, description));
    this.refuse();
  }

  /** The publisher is gone for good: UnpublishNotify + StreamEOF, then close. */
  endPlay(streamId: number): void {
    this.transport.send(
      onStatusMessage(streamId, 'status', StatusCode.PlayUnpublishNotify, 'Stream is unpublished.'),
    );
    this.transport.send(streamEofMessage(streamId));
    this.refuse();
  }

  private refuse(): void {
    this.state = ConnState.Refused;
    this.activeStreamId = 0;
    this.activeRequest = null;
    this.disarm();
    this.socket.setTimeout(0);
    this.socket.end();
    // A peer that never reads our FIN-ed side must not hold the socket forever.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  /** Shared, already-chunked media bytes for a player. */
  sendRaw(buf: Buffer): void {
    this.socket.write(buf);
  }
}
