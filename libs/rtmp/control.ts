import { ByteReader } from '../bytes/byte-reader.ts';
import { ByteWriter } from '../bytes/byte-writer.ts';
import { ProtocolError } from '../errors/protocol-error.ts';
import { CONTROL_CSID, MessageType, UserControlEvent } from './message-types.ts';
import type { RtmpMessage } from './message-types.ts';

// Protocol control messages (RTMP spec §5.4) and User Control messages (§6.2, §7.1.7).
// They travel on chunk stream 2, message stream 0, timestamp 0.

const control = (typeId: number, payload: Buffer): RtmpMessage => ({
  csid: CONTROL_CSID,
  typeId,
  streamId: 0,
  timestamp: 0,
  payload,
});

const u32Payload = (value: number, what: string): Buffer => {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what} ${value} is not an unsigned 32-bit integer`);
  }
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value, 0);
  return b;
};

/** §5.4.1: the top bit must be zero; sizes above 0xFFFFFF are pointless (messages are 24-bit). */
export function setChunkSizeMessage(size: number): RtmpMessage {
  if (!Number.isInteger(size) || size < 1 || size > 0x7fffffff) {
    throw new RangeError(`chunk size ${size} is outside 1..2^31-1`);
  }
  return control(MessageType.SetChunkSize, u32Payload(size, 'chunk size'));
}

/** §5.4.2 */
export function abortMessage(csid: number): RtmpMessage {
  return control(MessageType.Abort, u32Payload(csid, 'chunk stream id'));
}

/** §5.4.3: sequence number = bytes received so far, wrapping mod 2^32. */
export function ackMessage(sequenceNumber: number): RtmpMessage {
  return control(MessageType.Ack, u32Payload(sequenceNumber >>> 0, 'sequence number'));
}

/** §5.4.4 */
export function windowAckSizeMessage(size: number): RtmpMessage {
  return control(MessageType.WindowAckSize, u32Payload(size, 'window acknowledgement size'));
}

/** §5.4.5: limitType 0 hard, 1 soft, 2 dynamic. */
export function setPeerBandwidthMessage(size: number, limitType: 0 | 1 | 2): RtmpMessage {
  const payload = Buffer.allocUnsafe(5);
  u32Payload(size, 'peer bandwidth').copy(payload, 0);
  payload[4] = limitType;
  return control(MessageType.SetPeerBandwidth, payload);
}

/**
 * §7.1.7: event type u16, then the event data: a stream id or timestamp (u32), and for
 * SetBufferLength a second u32 with the buffer length in milliseconds (`extra`).
 */
export function userControlMessage(event: number, value: number, extra?: number): RtmpMessage {
  const w = new ByteWriter(extra === undefined ? 6 : 10);
  w.u16be(event).u32be(value);
  if (extra !== undefined) w.u32be(extra);
  return control(MessageType.UserControl, Buffer.from(w.toBuffer()));
}

export const streamBeginMessage = (streamId: number): RtmpMessage =>
  userControlMessage(UserControlEvent.StreamBegin, streamId);

export const streamEofMessage = (streamId: number): RtmpMessage =>
  userControlMessage(UserControlEvent.StreamEof, streamId);

export const pingRequestMessage = (timestamp: number): RtmpMessage =>
  userControlMessage(UserControlEvent.PingRequest, timestamp >>> 0);

export const pingResponseMessage = (timestamp: number): RtmpMessage =>
  userControlMessage(UserControlEvent.PingResponse, timestamp >>> 0);

export interface UserControl {
  event: number;
  /** Stream id or timestamp, depending on the event; 0 for unknown events without data. */
  value: number;
  /** Only for SetBufferLength. */
  bufferLengthMs?: number;
}

const KNOWN_EVENTS: ReadonlySet<number> = new Set(Object.values(UserControlEvent));

/**
 * Parses a User Control payload. The events of §7.1.7 must carry their 4-byte value (and
 * SetBufferLength its 4-byte length); other events (e.g. SWF verification, 26/27) are passed
 * through with `value` read if present, so an unusual client does not end the session.
 */
export function parseUserControl(payload: Buffer): UserControl {
  const event = payload.length >= 2 ? payload.readUInt16BE(0) : -1;
  const need = event === UserControlEvent.SetBufferLength ? 10 : KNOWN_EVENTS.has(event) ? 6 : 2;
  if (payload.length < need) {
    throw new ProtocolError(
      'RTMP_BAD_USER_CONTROL',
      `user control message of ${payload.length} bytes is too short for event ${event}, needs ${need}`,
    );
  }
  const r = new ByteReader(payload, 2);
  const value = r.remaining >= 4 ? r.u32be('user control event data') : 0;
  if (event !== UserControlEvent.SetBufferLength) return { event, value };
  return { event, value, bufferLengthMs: r.u32be('user control buffer length') };
}

/**
 * Reads the u32 that starts a Set Chunk Size, Abort, Acknowledgement, Window Acknowledgement
 * Size or Set Peer Bandwidth payload. `what` names the message for the error.
 */
export function parseU32Control(payload: Buffer, what: string): number {
  if (payload.length < 4) {
    throw new ProtocolError(
      'RTMP_BAD_CONTROL_MESSAGE',
      `${what} message has ${payload.length} bytes, needs at least 4`,
    );
  }
  return payload.readUInt32BE(0);
}

export interface PeerBandwidth {
  size: number;
  limitType: number;
}

/** §5.4.5: u32 window size + u8 limit type. */
export function parseSetPeerBandwidth(payload: Buffer): PeerBandwidth {
  if (payload.length < 5) {
    throw new ProtocolError(
      'RTMP_BAD_CONTROL_MESSAGE',
      `set peer bandwidth message has ${payload.length} bytes, needs 5`,
    );
  }
  return { size: payload.readUInt32BE(0), limitType: payload[4]! };
}
