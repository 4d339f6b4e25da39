import { ProtocolError } from '../errors/protocol-error.ts';
import { decodeAmf0 } from './amf0-decode.ts';
import type { AmfValue } from './types.ts';

/** RTMP message type ids carrying AMF (RTMP spec §7.1.1, §7.1.2). */
export const AmfMessageType = {
  Amf3Data: 15,
  Amf3Command: 17,
  Amf0Data: 18,
  Amf0Command: 20,
} as const;
export type AmfMessageType = (typeof AmfMessageType)[keyof typeof AmfMessageType];

/**
 * Decodes the body of an RTMP command or data message into its values.
 *
 * Types 20/18 are plain AMF0. Types 17/15 start with a format byte (0 = AMF0 encoding)
 * and then carry AMF0 values in which the avmplus marker 0x11 switches one value to
 * AMF3 (RTMP spec §7.1.1). When the first byte is not 0 the sender omitted the format
 * byte, so the body is decoded from its start; a command body cannot begin with 0x00
 * otherwise, since its first value is the command name string.
 */
export function decodeCommandPayload(typeId: number, payload: Buffer): AmfValue[] {
  switch (typeId) {
    case AmfMessageType.Amf0Command:
    case AmfMessageType.Amf0Data:
      return decodeAmf0(payload);
    case AmfMessageType.Amf3Command:
    case AmfMessageType.Amf3Data:
      return decodeAmf0(payload[0] === 0 ? payload.subarray(1) : payload);
    default:
      throw new ProtocolError('AMF_BAD_MESSAGE_TYPE', `RTMP message type ${typeId} does not carry AMF`);
  }
}
