import type { Socket } from 'node:net';
import { ChunkReader, type ChunkReaderLimits, type InputCharge } from './chunk-reader.ts';
import { encodeMessage } from './chunk-writer.ts';
import {
  ackMessage,
  parseU32Control,
  parseUserControl,
  pingResponseMessage,
  setChunkSizeMessage,
  windowAckSizeMessage,
} from './control.ts';
import type { HandshakeStep } from './handshake-collector.ts';
import { nodeBudgetError } from './message-assembly.ts';
import { MessageType, UserControlEvent, type RtmpMessage } from './message-types.ts';

/** Either side of the RTMP handshake (HandshakeServer, HandshakeClient). */
export interface Handshake {
  push(data: Buffer): HandshakeStep;
  /** Bytes it holds towards an incomplete packet. */
  readonly bufferedBytes: number;
}

/**
 * The chunk-stream layer of one RTMP connection, after the handshake: reassembles messages,
 * answers protocol control (acknowledgements, pings) and writes messages as chunks.
 * Everything else goes to `onMessage`. Sans-policy: sessions decide what messages mean.
 */
export class RtmpTransport {
  readonly socket: Socket;
  private readonly reader: ChunkReader;
  private outChunkSize = 128;
  private peerWindowAckSize = 0;
  private bytesSinceAck = 0;
  private totalIn = 0;
  private readonly onMessage: (msg: RtmpMessage) => void;
  private handshake: Handshake | null = null;
  private onHandshakeDone: (() => void) | null = null;
  /** Where input held between reads is charged (the node's input budget), if anywhere. */
  private readonly input: InputCharge | undefined;
  private handshakeCharged = 0;

  constructor(
    socket: Socket,
    opts: { limits?: Partial<ChunkReaderLimits>; input?: InputCharge | undefined },
    onMessage: (msg: RtmpMessage) => void,
  ) {
    this.socket = socket;
    this.input = opts.input;
    this.reader = new ChunkReader(opts.limits, opts.input);
    this.onMessage = onMessage;
  }

  get chunkSize(): number {
    return this.outChunkSize;
  }

  get bytesIn(): number {
    return this.totalIn;
  }

  /** Input bytes held for incomplete handshake packets and partial messages (bounded by limits). */
  get bufferedInBytes(): number {
    return this.handshakeCharged + this.reader.memoryBytes;
  }

  /** Routes the next socket bytes through `handshake` until it is done, then calls `onDone`. */
  expectHandshake(handshake: Handshake, onDone: () => void): void {
    this.handshake = handshake;
    this.onHandshakeDone = onDone;
  }

  /**
   * Bytes from the socket: the handshake first (its replies are written here), then the chunk
   * stream, including bytes that came in the same read as the last handshake packet.
   * Throws ProtocolError on bad input.
   */
  receive(data: Buffer): void {
    if (this.handshake) {
      const step = this.handshake.push(data);
      this.chargeHandshake(step.done ? 0 : this.handshake.bufferedBytes);
      for (const b of step.send) this.socket.write(b);
      if (!step.done) return;
      const done = this.onHandshakeDone;
      this.handshake = null;
      this.onHandshakeDone = null;
      done?.();
      if (step.rest.length === 0) return;
      data = step.rest;
    }
    this.feed(data);
  }

  /**
   * Keeps the charge equal to what the handshake holds. Charged after the bytes are taken, so the
   * node budget can be exceeded by at most one packet (1537 bytes) until this connection closes.
   */
  private chargeHandshake(bytes: number): void {
    const delta = bytes - this.handshakeCharged;
    if (delta === 0 || this.input === undefined) return;
    if (delta > 0 && !this.input.tryCharge(delta)) throw nodeBudgetError(delta);
    if (delta < 0) this.input.release(-delta);
    this.handshakeCharged = bytes;
  }

  /** Feed chunk-stream bytes; throws ProtocolError on a malformed chunk stream. */
  feed(data: Buffer): void {
    this.totalIn += data.length;
    this.bytesSinceAck += data.length;
    if (this.peerWindowAckSize > 0 && this.bytesSinceAck >= this.peerWindowAckSize) {
      // RTMP spec §5.4.3: acknowledge with the total bytes received so far (mod 2^32).
      this.bytesSinceAck = 0;
      this.send(ackMessage(this.totalIn % 0x1_0000_0000));
    }
    for (const msg of this.reader.push(data)) this.handle(msg);
  }

  private handle(msg: RtmpMessage): void {
    switch (msg.typeId) {
      case MessageType.SetChunkSize:
      case MessageType.Abort:
      case MessageType.Ack:
      case MessageType.SetPeerBandwidth:
        return; // applied by the reader, or informational
      case MessageType.WindowAckSize:
        this.peerWindowAckSize = parseU32Control(msg.payload, 'window acknowledgement size');
        return;
      case MessageType.UserControl: {
        const uc = parseUserControl(msg.payload);
        if (uc.event === UserControlEvent.PingRequest) this.send(pingResponseMessage(uc.value));
        else this.onMessage(msg);
        return;
      }
      default:
        this.onMessage(msg);
    }
  }

  send(msg: RtmpMessage): void {
    this.socket.write(encodeMessage(msg, this.outChunkSize));
  }

  /** Already-chunked bytes (shared media buffers). */
  sendRaw(buf: Buffer): void {
    this.socket.write(buf);
  }

  setOutChunkSize(size: number): void {
    this.send(setChunkSizeMessage(size));
    this.outChunkSize = size;
  }

  sendWindowAckSize(size: number): void {
    this.send(windowAckSizeMessage(size));
  }
}
