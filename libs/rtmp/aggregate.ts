import { ByteReader } from '../bytes/byte-reader.ts';
import { ProtocolError } from '../errors/protocol-error.ts';
import { MessageType } from './message-types.ts';
import type { RtmpMessage } from './message-types.ts';

/** Sub-message header: type u8, size u24, timestamp u24 + extension u8, stream id u24. */
const SUB_HEADER_SIZE = 11;
const BACK_POINTER_SIZE = 4;

const bad = (message: string): ProtocolError => new ProtocolError('RTMP_BAD_AGGREGATE', message);

/**
 * Splits an Aggregate message (RTMP spec §7.1.6) into its sub-messages, laid out like FLV tags:
 * header, data, back pointer. The first sub-message's timestamp maps to the aggregate's and the
 * later ones keep their offset from it (mod 2^32); csid and stream id come from the aggregate.
 *
 * The back pointer's value is not checked (writers disagree on it), only its presence.
 * Nested aggregates are refused so a consumer that recurses cannot be driven deep.
 * Each sub-message payload is its own copy, like every payload the chunk reader emits.
 */
export function splitAggregate(msg: RtmpMessage): RtmpMessage[] {
  const out: RtmpMessage[] = [];
  const r = new ByteReader(msg.payload);
  let first: number | undefined;
  while (r.remaining > 0) {
    if (r.remaining < SUB_HEADER_SIZE) {
      throw bad(`aggregate sub-message ${out.length} header truncated: ${r.remaining} of 11 bytes`);
    }
    const typeId = r.u8('aggregate sub-message type');
    const size = r.u24be('aggregate sub-message size');
    const low = r.u24be('aggregate sub-message timestamp');
    // Timestamp extension is the upper 8 bits (as in FLV tags).
    const timestamp = r.u8('aggregate sub-message timestamp extension') * 0x1000000 + low;
    r.skip(3, 'aggregate sub-message stream id');
    if (typeId === MessageType.Aggregate) throw bad(`aggregate sub-message ${out.length} is an aggregate`);
    if (r.remaining < size + BACK_POINTER_SIZE) {
      throw bad(
        `aggregate sub-message ${out.length} of ${size} bytes plus back pointer exceeds the ${r.remaining} bytes left`,
      );
    }
    const data = Buffer.allocUnsafeSlow(size);
    r.bytes(size, 'aggregate sub-message data').copy(data);
    r.skip(BACK_POINTER_SIZE, 'aggregate back pointer');
    first ??= timestamp;
    out.push({
      csid: msg.csid,
      typeId,
      streamId: msg.streamId,
      timestamp: (msg.timestamp + timestamp - first) >>> 0,
      payload: data,
    });
  }
  return out;
}
