import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkReader } from '../../../libs/rtmp/chunk-reader.ts';
import { encodeMessage, encodedMessageSize } from '../../../libs/rtmp/chunk-writer.ts';
import { setChunkSizeMessage } from '../../../libs/rtmp/control.ts';
import type { RtmpMessage } from '../../../libs/rtmp/message-types.ts';
import { chunks, msg, pattern } from './chunk-builder.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const exact: { name: string; message: RtmpMessage; chunkSize: number; bytes: Buffer }[] = [
  {
    name: 'one chunk, 1-byte csid',
    message: msg(3, 20, 0x01020304, 1000, hex('aabbcc')),
    chunkSize: 128,
    bytes: hex('03 0003e8 000003 14 04030201 aabbcc'),
  },
  {
    name: 'empty payload is a lone fmt 0 header',
    message: msg(4, 8, 1, 0, Buffer.alloc(0)),
    chunkSize: 128,
    bytes: hex('04 000000 000000 08 01000000'),
  },
  {
    name: 'fmt 3 continuations at chunk size 2',
    message: msg(5, 9, 1, 7, hex('0102030405')),
    chunkSize: 2,
    bytes: hex('05 000007 000005 09 01000000 0102 c5 0304 c5 05'),
  },
  {
    name: '2-byte csid 64',
    message: msg(64, 8, 0, 0, hex('01')),
    chunkSize: 128,
    bytes: hex('00 00 000000 000001 08 00000000 01'),
  },
  {
    name: '2-byte csid 319 with continuation',
    message: msg(319, 8, 0, 0, hex('0102')),
    chunkSize: 1,
    bytes: hex('00 ff 000000 000002 08 00000000 01 c0 ff 02'),
  },
  {
    name: '3-byte csid 320 with continuation',
    message: msg(320, 8, 0, 0, hex('0102')),
    chunkSize: 1,
    bytes: hex('01 0001 000000 000002 08 00000000 01 c1 0001 02'),
  },
  {
    name: '3-byte csid 65599',
    message: msg(65599, 8, 0, 0, hex('01')),
    chunkSize: 1,
    bytes: hex('01 ffff 000000 000001 08 00000000 01'),
  },
  {
    name: 'extended timestamp repeated in fmt 3 continuations',
    message: msg(6, 9, 1, 0x12345678, hex('010203')),
    chunkSize: 2,
    bytes: hex('06 ffffff 000003 09 01000000 12345678 0102 c6 12345678 03'),
  },
  {
    name: 'timestamp 0xFFFFFF is extended',
    message: msg(6, 9, 1, 0xffffff, hex('01')),
    chunkSize: 2,
    bytes: hex('06 ffffff 000001 09 01000000 00ffffff 01'),
  },
  {
    name: 'timestamp 0xFFFFFE is not',
    message: msg(6, 9, 1, 0xfffffe, hex('01')),
    chunkSize: 2,
    bytes: hex('06 fffffe 000001 09 01000000 01'),
  },
];

for (const c of exact) {
  test(`chunk writer: ${c.name}`, () => {
    const out = encodeMessage(c.message, c.chunkSize);
    assert.equal(out.toString('hex'), c.bytes.toString('hex'));
    const { csid, timestamp, payload } = c.message;
    assert.equal(encodedMessageSize(payload.length, csid, timestamp, c.chunkSize), out.length);
    // One allocation of exactly the encoded size, with its own memory.
    assert.equal(out.buffer.byteLength, out.length);
    const reader = new ChunkReader();
    if (c.chunkSize !== 128) reader.push(encodeMessage(setChunkSizeMessage(c.chunkSize), 128));
    assert.deepEqual(reader.push(out), [c.message]);
  });
}

test('chunk writer: output matches hand-built chunks', () => {
  const payload = pattern(1000, 9);
  const built = Buffer.concat(
    chunks({ fmt: 0, csid: 6, ts: 0x2000000, typeId: 9, streamId: 1 }, payload, 300, 0x2000000),
  );
  assert.deepEqual(encodeMessage(msg(6, 9, 1, 0x2000000, payload), 300), built);
});

test('chunk writer: rejects caller errors with RangeError', () => {
  assert.throws(() => encodeMessage(msg(1, 8, 0, 0, Buffer.alloc(1)), 128), RangeError);
  assert.throws(() => encodeMessage(msg(65600, 8, 0, 0, Buffer.alloc(1)), 128), RangeError);
  assert.throws(() => encodeMessage(msg(3, 8, 0, 0, Buffer.alloc(1)), 0), RangeError);
  assert.throws(() => encodeMessage(msg(3, 8, 0, 0, Buffer.alloc(0x1000000)), 128), RangeError);
});

for (const chunkSize of [128, 4096, 60000]) {
  test(`chunk writer -> reader round trip at chunk size ${chunkSize}, payloads 0..20000`, () => {
    const source = pattern(20000, chunkSize);
    const reader = new ChunkReader();
    reader.push(encodeMessage(setChunkSizeMessage(chunkSize), 128));
    const csids = [2, 3, 63, 64, 319, 320, 65599];
    for (let length = 0; length <= 20000; length++) {
      const csid = csids[length % csids.length]!;
      // Every 5th message has an extended timestamp.
      const timestamp = length % 5 === 0 ? (0xfffff0 + length * 977) >>> 0 : length * 33;
      const m = msg(csid, 9, length & 3, timestamp, source.subarray(0, length));
      const out = encodeMessage(m, chunkSize);
      assert.equal(out.length, encodedMessageSize(length, csid, timestamp, chunkSize));
      const got = reader.push(out);
      assert.equal(got.length, 1, `length ${length}`);
      const g = got[0]!;
      assert.ok(
        g.csid === csid && g.typeId === 9 && g.streamId === (length & 3) && g.timestamp === timestamp,
        `header of length ${length}`,
      );
      assert.ok(g.payload.equals(m.payload), `payload of length ${length}`);
    }
    assert.equal(reader.bufferedBytes, 0);
  });
}
