import type { RtmpMessage } from './message-types.ts';

// RTMP chunk writer (RTMP spec §5.3): the first chunk carries a fmt 0 header with the absolute
// timestamp, every continuation a fmt 3 header. Always using fmt 0 costs a few bytes per
// message but makes every encoded message self-contained, so the same bytes can be sent to any
// subscriber whatever it has already received (serialize once, send many).

const EXTENDED_TIMESTAMP = 0xffffff;
const MAX_CSID = 65599;
const MAX_MESSAGE_LENGTH = 0xffffff;

/** §5.3.1.1: 1, 2 or 3 bytes depending on the chunk stream id. */
function basicHeaderSize(csid: number): number {
  if (!Number.isInteger(csid) || csid < 2 || csid > MAX_CSID) {
    throw new RangeError(`chunk stream id ${csid} is outside 2..${MAX_CSID}`);
  }
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function checkChunkSize(chunkSize: number): void {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 0x7fffffff) {
    throw new RangeError(`chunk size ${chunkSize} is outside 1..2^31-1`);
  }
}

/** Exact number of bytes `encodeMessage` produces for these parameters. */
export function encodedMessageSize(
  payloadLength: number,
  csid: number,
  timestamp: number,
  chunkSize: number,
): number {
  checkChunkSize(chunkSize);
  const chunks = payloadLength === 0 ? 1 : Math.ceil(payloadLength / chunkSize);
  // §5.3.1.3: with an extended timestamp, every chunk (fmt 3 included) carries 4 more bytes.
  const perChunk = basicHeaderSize(csid) + (timestamp >>> 0 >= EXTENDED_TIMESTAMP ? 4 : 0);
  return chunks * perChunk + 11 + payloadLength;
}

function writeBasicHeader(out: Buffer, pos: number, fmt: number, csid: number): number {
  if (csid < 64) {
    out[pos] = (fmt << 6) | csid;
    return pos + 1;
  }
  const rest = csid - 64;
  if (csid < 320) {
    out[pos] = fmt << 6;
    out[pos + 1] = rest;
    return pos + 2;
  }
  out[pos] = (fmt << 6) | 1;
  out[pos + 1] = rest & 0xff;
  out[pos + 2] = rest >> 8;
  return pos + 3;
}

/** Encodes one message as chunks into a single exact-size Buffer with its own memory. */
export function encodeMessage(msg: RtmpMessage, chunkSize: number): Buffer {
  const { csid, payload } = msg;
  const length = payload.length;
  if (length > MAX_MESSAGE_LENGTH) {
    throw new RangeError(`message of ${length} bytes exceeds the 24-bit length field`);
  }
  const timestamp = msg.timestamp >>> 0;
  const extended = timestamp >= EXTENDED_TIMESTAMP;
  // Own memory, not a pool slice: encoded messages are cached and shared by all subscribers.
  const out = Buffer.allocUnsafeSlow(encodedMessageSize(length, csid, timestamp, chunkSize));

  let pos = writeBasicHeader(out, 0, 0, csid);
  out.writeUIntBE(extended ? EXTENDED_TIMESTAMP : timestamp, pos, 3);
  out.writeUIntBE(length, pos + 3, 3);
  out[pos + 6] = msg.typeId;
  out.writeUInt32LE(msg.streamId >>> 0, pos + 7);
  pos += 11;
  if (extended) pos = out.writeUInt32BE(timestamp, pos);

  let sent = 0;
  for (;;) {
    const n = Math.min(chunkSize, length - sent);
    payload.copy(out, pos, sent, sent + n);
    pos += n;
    sent += n;
    if (sent >= length) break;
    pos = writeBasicHeader(out, pos, 3, csid);
    if (extended) pos = out.writeUInt32BE(timestamp, pos);
  }
  return out;
}
