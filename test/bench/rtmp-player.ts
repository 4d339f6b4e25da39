import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { decodeCommandPayload, type AmfObject, type AmfValue } from '../../libs/amf/index.ts';
import { encodeMessage } from '../../libs/rtmp/chunk-writer.ts';
import { parseRtmpUrl, type RtmpUrl } from '../../libs/rtmp/client-url.ts';
import { commandMessage, StatusCode } from '../../libs/rtmp/commands.ts';
import { ackMessage, userControlMessage, windowAckSizeMessage } from '../../libs/rtmp/control.ts';
import { HandshakeClient } from '../../libs/rtmp/handshake-client.ts';
import { MessageType, UserControlEvent, type RtmpMessage } from '../../libs/rtmp/message-types.ts';
import { isPlayableKeyFrame } from './keyframe.ts';
import type { StreamLatency } from './latency-probe.ts';
import { describeError, newPlayerStats, type BenchPlayer } from './players.ts';
import { RtmpChunkScanner } from './rtmp-scanner.ts';

/** We never send Set Chunk Size: our commands go out in the default 128-byte chunks (§5.4.1). */
const OUT_CHUNK_SIZE = 128;
/** Window acknowledgement size we announce after connect, as ffmpeg and RtmpClient do (§5.4.4). */
const OUR_WINDOW_ACK_SIZE = 2_500_000;
/** SetBufferLength announced before play (§7.1.7): servers take it as a hint only. */
const PLAY_BUFFER_MS = 3000;
/** `play` start -2000: live, or recorded if there is no live stream (as ffmpeg sends). */
const PLAY_START_ANY = -2000;
const TXN_CONNECT = 1;
const TXN_CREATE_STREAM = 2;

/**
 * One read buffer for every plain-TCP RTMP player (net.Socket `onread`): a read lands here and
 * is scanned before the callback returns, so players never own read buffers and a read
 * allocates nothing. Only safe because nothing keeps a view of it past the callback: the scanner
 * copies split headers and command payloads, and the handshake copies partial packets.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

const Step = { Handshake: 0, Connect: 1, CreateStream: 2, Play: 3, Playing: 4 } as const;
type Step = (typeof Step)[keyof typeof Step];

const asObject = (v: AmfValue | undefined): AmfObject | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) ? (v as AmfObject) : null;

const codeError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

/**
 * An RTMP player on a raw socket: handshake, connect, createStream and play written by hand
 * (libs/rtmp encodes them, the answers are parsed just enough), then an RtmpChunkScanner reads
 * media headers where they lie. It acknowledges as the server's Window Acknowledgement Size asks
 * (§5.4.3; neither Sluice nor nginx-rtmp throttles a player that does not, but a player should)
 * and answers pings. Plain TCP reads go into one shared buffer; rtmps uses ordinary reads.
 * No timers once playing: the connect timeout is the socket's idle timeout, cleared at Play.Start.
 */
export class RtmpBenchPlayer implements BenchPlayer {
  readonly stats = newPlayerStats();
  private readonly url: RtmpUrl;
  private readonly socket: Socket;
  private readonly scanner = new RtmpChunkScanner();
  private readonly latency: StreamLatency | null;
  private handshake: HandshakeClient | null = new HandshakeClient();
  private step: Step = Step.Handshake;
  private streamId = 0;
  private received = 0;
  /** Chunk-stream bytes (after the handshake), what acknowledgements count (§5.4.3). */
  private chunkBytes = 0;
  private ackWindow = 0;
  private unacked = 0;
  /** performance.now() of the read being scanned: the receive time of the frames it completes. */
  private readAt = 0;

  constructor(url: string, timeoutMs: number, latency: StreamLatency | null = null) {
    this.latency = latency;
    this.url = parseRtmpUrl(url);
    this.scanner.onMedia = (typeId, streamId, ts, b0, b1) => this.onMedia(typeId, streamId, ts, b0, b1);
    this.scanner.onMessage = (typeId, _streamId, payload) => this.onMessage(typeId, payload);
    const { host, port } = this.url;
    if (this.url.secure) {
      this.socket = tlsConnect({ host, port, servername: host });
      this.socket.on('data', (d: Buffer) => this.onBytes(d, d.length));
    } else {
      this.socket = netConnect({
        host,
        port,
        onread: { buffer: READ_BUFFER, callback: (n) => this.onBytes(READ_BUFFER, n) },
      });
    }
    this.socket.setNoDelay(true);
    this.socket.setTimeout(timeoutMs);
    this.socket.once(this.url.secure ? 'secureConnect' : 'connect', () =>
      this.socket.write(this.handshake!.start()),
    );
    this.socket.on('timeout', () => this.fail(codeError('RTMP_TIMEOUT', 'no Play.Start in time')));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => {
      if (this.stats.stopped) return;
      if (this.stats.connectMs >= 0) this.stats.endedEarly ??= 'closed';
      else this.stats.failure ??= 'RTMP_CLOSED';
    });
  }

  get bytesIn(): number {
    return this.received;
  }

  /** Returns true: keep reading (the `onread` contract). */
  private onBytes(buf: Buffer, n: number): boolean {
    if (this.stats.stopped) return true;
    this.readAt = performance.now();
    this.received += n;
    try {
      if (this.handshake) this.shake(buf.subarray(0, n));
      else this.feed(buf, n);
    } catch (e) {
      this.fail(e);
    }
    return true;
  }

  private shake(data: Buffer): void {
    const step = this.handshake!.push(data);
    for (const b of step.send) this.socket.write(b);
    if (!step.done) return;
    this.handshake = null;
    this.step = Step.Connect;
    this.send(
      commandMessage('connect', TXN_CONNECT, {
        app: this.url.app + this.url.query,
        type: 'nonprivate',
        flashVer: 'LNX 9,0,124,2',
        tcUrl: this.url.tcUrl + this.url.query,
        fpad: false,
        capabilities: 15,
        audioCodecs: 4071,
        videoCodecs: 252,
        videoFunction: 1,
        objectEncoding: 0,
      }),
    );
    if (step.rest.length > 0) this.feed(step.rest, step.rest.length);
  }

  private feed(buf: Buffer, n: number): void {
    this.chunkBytes += n;
    this.unacked += n;
    if (this.ackWindow > 0 && this.unacked >= this.ackWindow) {
      // §5.4.3: the sequence number is every byte received so far, mod 2^32.
      this.unacked = 0;
      this.send(ackMessage(this.chunkBytes % 0x1_0000_0000));
    }
    this.scanner.push(buf, n);
  }

  private send(msg: RtmpMessage): void {
    this.socket.write(encodeMessage(msg, OUT_CHUNK_SIZE));
  }

  private onMedia(typeId: number, streamId: number, ts: number, b0: number, b1: number): void {
    if (streamId !== this.streamId || this.streamId === 0) return;
    const s = this.stats;
    if (typeId === MessageType.Video && s.firstKeyFrameMs < 0 && b1 >= 0 && isPlayableKeyFrame(b0, b1))
      s.firstKeyFrameMs = performance.now() - s.startedAt;
    s.lastTimestampMs = ts;
    this.latency?.received(ts, this.readAt);
  }

  private onMessage(typeId: number, payload: Buffer): void {
    switch (typeId) {
      case MessageType.WindowAckSize:
        if (payload.length >= 4) this.ackWindow = payload.readUInt32BE(0);
        return;
      case MessageType.UserControl:
        if (payload.length >= 6 && payload.readUInt16BE(0) === UserControlEvent.PingRequest)
          this.send(userControlMessage(UserControlEvent.PingResponse, payload.readUInt32BE(2)));
        return;
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        if (this.step !== Step.Playing) this.onCommand(decodeCommandPayload(typeId, payload));
        return;
      default:
        return; // Set Chunk Size and Abort are applied by the scanner; metadata and the rest: nothing to do
    }
  }

  private onCommand([name, txn, , first]: AmfValue[]): void {
    const info = asObject(first);
    if (name === '_result' && txn === TXN_CONNECT && this.step === Step.Connect) {
      this.step = Step.CreateStream;
      this.send(windowAckSizeMessage(OUR_WINDOW_ACK_SIZE));
      this.send(commandMessage('createStream', TXN_CREATE_STREAM, null));
    } else if (name === '_result' && txn === TXN_CREATE_STREAM && this.step === Step.CreateStream) {
      if (typeof first !== 'number' || !Number.isInteger(first) || first <= 0)
        throw codeError('RTMP_CREATE_STREAM_FAILED', `createStream answered ${JSON.stringify(first)}`);
      this.streamId = first;
      this.step = Step.Play;
      this.send(userControlMessage(UserControlEvent.SetBufferLength, first, PLAY_BUFFER_MS));
      this.send(commandMessage('play', 0, null, [this.url.streamName, PLAY_START_ANY], first));
    } else if (name === '_error') {
      const code = typeof info?.code === 'string' ? info.code : 'RTMP_ERROR';
      const what = txn === TXN_CONNECT ? 'connect' : txn === TXN_CREATE_STREAM ? 'createStream' : 'a command';
      throw codeError(code, `${what} refused`);
    } else if (name === 'onStatus' && info !== null) {
      if (info.code === StatusCode.PlayStart && this.step === Step.Play) {
        this.step = Step.Playing;
        this.stats.connectMs = performance.now() - this.stats.startedAt;
        this.socket.setTimeout(0);
      } else if (info.level === 'error') {
        throw codeError(typeof info.code === 'string' ? info.code : 'RTMP_STATUS_ERROR', 'play refused');
      }
    }
  }

  private fail(e: unknown): void {
    if (this.stats.stopped) return;
    if (this.stats.connectMs < 0) this.stats.failure ??= describeError(e);
    else this.stats.endedEarly ??= describeError(e);
    this.socket.destroy();
  }

  stop(): void {
    if (this.stats.stopped) return;
    this.stats.stopped = true;
    this.socket.setTimeout(0);
    // deleteStream, then our FIN: the server ends the play and closes its side.
    if (this.streamId !== 0 && this.socket.writable)
      this.send(commandMessage('deleteStream', 0, null, [this.streamId]));
    this.socket.end();
  }
}
