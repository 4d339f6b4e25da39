import { AmfEcmaArray, decodeCommandPayload, encodeAmf0, type AmfObject } from '../../libs/amf/index.ts';
import { parseAudioTag, parseVideoTag } from '../../libs/flv/index.ts';
import { MessageType, type RtmpMessage } from '../../libs/rtmp/message-types.ts';
import { MediaKind, type IncomingFrame } from '../../libs/stream/index.ts';

/**
 * Turns a publisher's RTMP media message into a stream frame: key frame and sequence
 * header flags from the FLV headers (legacy and Enhanced RTMP), metadata with
 * `@setDataFrame` stripped. Returns null for messages viewers do not need.
 * Throws ProtocolError on malformed headers.
 */
export function classifyRtmpMedia(msg: RtmpMessage): IncomingFrame | null {
  switch (msg.typeId) {
    case MessageType.Video: {
      if (msg.payload.length === 0) return null;
      const v = parseVideoTag(msg.payload);
      return {
        kind: MediaKind.Video,
        timestampMs: msg.timestamp,
        payload: msg.payload,
        isSequenceHeader: v.isSequenceHeader,
        isKeyFrame: v.isKeyFrame && !v.isSequenceHeader,
      };
    }
    case MessageType.Audio: {
      if (msg.payload.length === 0) return null;
      const a = parseAudioTag(msg.payload);
      return {
        kind: MediaKind.Audio,
        timestampMs: msg.timestamp,
        payload: msg.payload,
        isSequenceHeader: a.isSequenceHeader,
        isKeyFrame: false,
      };
    }
    case MessageType.DataAmf0:
    case MessageType.DataAmf3: {
      const values = decodeCommandPayload(msg.typeId, msg.payload);
      if (values[0] === '@setDataFrame') values.shift();
      if (values[0] !== 'onMetaData') return null;
      const meta = values[1];
      // Publishers send an ECMA array; players accept both, but keep the shape they expect.
      const body =
        meta &&
        typeof meta === 'object' &&
        !Array.isArray(meta) &&
        !(meta instanceof Date) &&
        !(meta instanceof AmfEcmaArray)
          ? new AmfEcmaArray(meta as AmfObject)
          : (meta ?? null);
      return {
        kind: MediaKind.Data,
        timestampMs: msg.timestamp,
        payload: encodeAmf0(['onMetaData', body]),
        isSequenceHeader: false,
        isKeyFrame: false,
      };
    }
    default:
      return null;
  }
}
