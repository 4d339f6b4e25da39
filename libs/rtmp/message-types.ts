/** RTMP message type ids (RTMP spec §5.4 protocol control, §7.1 other messages). */
export const MessageType = {
  SetChunkSize: 1,
  Abort: 2,
  Ack: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  DataAmf3: 15,
  SharedObjectAmf3: 16,
  CommandAmf3: 17,
  DataAmf0: 18,
  SharedObjectAmf0: 19,
  CommandAmf0: 20,
  Aggregate: 22,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** User Control Message event types (RTMP spec §7.1.7). */
export const UserControlEvent = {
  StreamBegin: 0,
  StreamEof: 1,
  StreamDry: 2,
  SetBufferLength: 3,
  StreamIsRecorded: 4,
  PingRequest: 6,
  PingResponse: 7,
} as const;
export type UserControlEvent = (typeof UserControlEvent)[keyof typeof UserControlEvent];

/** Set Peer Bandwidth limit types (RTMP spec §5.4.5). */
export const PeerBandwidthLimit = { Hard: 0, Soft: 1, Dynamic: 2 } as const;
export type PeerBandwidthLimit = (typeof PeerBandwidthLimit)[keyof typeof PeerBandwidthLimit];

/** One complete RTMP message, reassembled from (or to be split into) chunks. */
export interface RtmpMessage {
  /** Chunk stream id it travelled on (2..65599). */
  csid: number;
  typeId: number;
  /** Message stream id (0 for protocol control and NetConnection commands). */
  streamId: number;
  /** Milliseconds, unsigned 32-bit; arithmetic wraps mod 2^32 (RTMP spec §5.3.1.1). */
  timestamp: number;
  payload: Buffer;
}

/** Chunk stream id used for protocol control messages (RTMP spec §5.4). */
export const CONTROL_CSID = 2;
