import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitAggregate } from '../../../libs/rtmp/aggregate.ts';
import type { RtmpMessage } from '../../../libs/rtmp/message-types.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { msg } from './chunk-builder.ts';

/** One FLV-tag-shaped sub-message with its back pointer (RTMP spec §7.1.6). */
function sub(
  typeId: number,
  timestamp: number,
  data: Buffer,
  streamId = 0,
  backPointer = 11 + data.length,
): Buffer {
  const h = Buffer.alloc(11);
  h[0] = typeId;
  h.writeUIntBE(data.length, 1, 3);
  h.writeUIntBE(timestamp & 0xffffff, 4, 3);
  h[7] = timestamp >>> 24;
  h.writeUIntBE(streamId, 8, 3);
  const bp = Buffer.alloc(4);
  bp.writeUInt32BE(backPointer);
  return Buffer.concat([h, data, bp]);
}

const agg = (timestamp: number, ...subs: Buffer[]): RtmpMessage =>
  msg(6, 22, 1, timestamp, Buffer.concat(subs));
const A = Buffer.from('af01aabb', 'hex');
const V = Buffer.from('1701000000cafe', 'hex');

const cases: { name: string; input: RtmpMessage; expect: RtmpMessage[] }[] = [
  { name: 'empty aggregate', input: agg(100), expect: [] },
  {
    name: 'audio and video, timestamps rebased on the aggregate',
    input: agg(5000, sub(9, 1000, V), sub(8, 1010, A), sub(9, 1040, V)),
    expect: [msg(6, 9, 1, 5000, V), msg(6, 8, 1, 5010, A), msg(6, 9, 1, 5040, V)],
  },
  {
    name: 'timestamp extension byte is the upper 8 bits',
    input: agg(0x01000000, sub(9, 0x02fffff0, V), sub(9, 0x03000010, V)),
    expect: [msg(6, 9, 1, 0x01000000, V), msg(6, 9, 1, 0x01000020, V)],
  },
  {
    name: 'rebasing wraps mod 2^32',
    input: agg(0xfffffff0, sub(8, 0, A), sub(8, 0x20, A)),
    expect: [msg(6, 8, 1, 0xfffffff0, A), msg(6, 8, 1, 0x10, A)],
  },
  {
    name: 'sub-message stream id and back pointer value are ignored',
    input: agg(0, sub(8, 0, A, 7, 0), sub(8, 0, Buffer.alloc(0), 7, 12345)),
    expect: [msg(6, 8, 1, 0, A), msg(6, 8, 1, 0, Buffer.alloc(0))],
  },
];

for (const c of cases) {
  test(`aggregate: ${c.name}`, () => {
    const out = splitAggregate(c.input);
    assert.deepEqual(out, c.expect);
    for (const m of out) assert.equal(m.payload.buffer.byteLength, m.payload.length, 'own memory');
  });
}

const whole = Buffer.concat([sub(9, 0, V), sub(8, 10, A)]);
const bad: { name: string; payload: Buffer }[] = [
  { name: 'truncated sub-message header', payload: whole.subarray(0, 5) },
  { name: 'truncated second header', payload: whole.subarray(0, 11 + V.length + 4 + 3) },
  { name: 'data past the end', payload: whole.subarray(0, 11 + 3) },
  { name: 'missing back pointer', payload: whole.subarray(0, whole.length - 2) },
  { name: 'nested aggregate', payload: sub(22, 0, sub(8, 0, A)) },
];

for (const c of bad) {
  test(`aggregate rejects: ${c.name}`, () => {
    assert.throws(
      () => splitAggregate(msg(6, 22, 1, 0, c.payload)),
      (e: unknown) => e instanceof ProtocolError && e.code === 'RTMP_BAD_AGGREGATE',
    );
  });
}
