import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkReader } from '../../../libs/rtmp/chunk-reader.ts';
import type { ChunkReaderLimits } from '../../../libs/rtmp/chunk-reader.ts';
import type { RtmpMessage } from '../../../libs/rtmp/message-types.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { PIECE_OVERHEAD } from '../../../libs/rtmp/message-assembly.ts';
import { chunk, chunks, msg, pattern, u32Payload } from './chunk-builder.ts';

const P3 = pattern(3, 3);
const P4 = pattern(4, 4);
const P5 = pattern(5, 5);
const P200 = pattern(200, 200);
const P130 = pattern(130, 130);
const P300 = pattern(300, 300);
const P1000 = pattern(1000, 1000);
const EXT = 0x01000000;

interface Case {
  name: string;
  input: Buffer[];
  expect: RtmpMessage[];
  chunkSize?: number;
}

const cases: Case[] = [
  {
    name: 'fmt 0, 1-byte csid, raw bytes (stream id little-endian)',
    input: [Buffer.from('03' + '0003e8' + '000005' + '14' + '04030201', 'hex'), P5],
    expect: [msg(3, 20, 0x01020304, 1000, P5)],
  },
  {
    name: '2-byte csid form: 64',
    input: [Buffer.from('00' + '00' + '000001' + '000003' + '08' + '01000000', 'hex'), P3],
    expect: [msg(64, 8, 1, 1, P3)],
  },
  {
    name: '2-byte csid form: 319',
    input: [chunk({ fmt: 0, csid: 319, ts: 2, typeId: 9 }, P3)],
    expect: [msg(319, 9, 0, 2, P3)],
  },
  {
    name: '3-byte csid form: 320 (raw bytes, low byte first)',
    input: [Buffer.from('01' + '0001' + '000003' + '000003' + '09' + '00000000', 'hex'), P3],
    expect: [msg(320, 9, 0, 3, P3)],
  },
  {
    name: '3-byte csid form: 65599',
    input: [chunk({ fmt: 0, csid: 65599, ts: 4, typeId: 9 }, P3)],
    expect: [msg(65599, 9, 0, 4, P3)],
  },
  {
    name: '2- and 3-byte forms of csid 100 share state',
    input: [
      chunk({ fmt: 0, csid: 100, ts: 10, typeId: 8, long: true }, P3),
      chunk({ fmt: 2, csid: 100, ts: 5 }, P3),
    ],
    expect: [msg(100, 8, 0, 10, P3), msg(100, 8, 0, 15, P3)],
  },
  {
    name: 'fmt 1: delta, new length and type, stream id kept',
    input: [
      chunk({ fmt: 0, csid: 4, ts: 100, typeId: 8, streamId: 1 }, P3),
      chunk({ fmt: 1, csid: 4, ts: 20, typeId: 9 }, P4),
    ],
    expect: [msg(4, 8, 1, 100, P3), msg(4, 9, 1, 120, P4)],
  },
  {
    name: 'fmt 2: delta only',
    input: [
      chunk({ fmt: 0, csid: 4, ts: 100, typeId: 8, streamId: 1 }, P3),
      chunk({ fmt: 2, csid: 4, ts: 33 }, P3),
    ],
    expect: [msg(4, 8, 1, 100, P3), msg(4, 8, 1, 133, P3)],
  },
  {
    name: 'fmt 3 starting new messages reuses the fmt 2 delta',
    input: [
      chunk({ fmt: 0, csid: 4, ts: 100, typeId: 8, streamId: 1 }, P3),
      chunk({ fmt: 2, csid: 4, ts: 23 }, P3),
      chunk({ fmt: 3, csid: 4 }, P3),
      chunk({ fmt: 3, csid: 4 }, P3),
    ],
    expect: [msg(4, 8, 1, 100, P3), msg(4, 8, 1, 123, P3), msg(4, 8, 1, 146, P3), msg(4, 8, 1, 169, P3)],
  },
  {
    name: 'fmt 3 after fmt 0 uses the fmt 0 timestamp as delta (§5.3.1.2.4)',
    input: [chunk({ fmt: 0, csid: 4, ts: 40, typeId: 8 }, P3), chunk({ fmt: 3, csid: 4 }, P3)],
    expect: [msg(4, 8, 0, 40, P3), msg(4, 8, 0, 80, P3)],
  },
  {
    name: 'message over 3 chunks of 128 with fmt 3 continuations',
    input: chunks({ fmt: 0, csid: 6, ts: 7, typeId: 9, streamId: 1 }, P300, 128),
    expect: [msg(6, 9, 1, 7, P300)],
  },
  {
    name: 'interleaved chunks of two chunk streams',
    input: (() => {
      const a = chunks({ fmt: 0, csid: 4, ts: 1, typeId: 8, streamId: 1 }, P200, 128);
      const b = chunks({ fmt: 0, csid: 6, ts: 2, typeId: 9, streamId: 1 }, P130, 128);
      return [a[0]!, b[0]!, a[1]!, b[1]!];
    })(),
    expect: [msg(4, 8, 1, 1, P200), msg(6, 9, 1, 2, P130)],
  },
  {
    name: 'extended timestamp on fmt 0, repeated by the fmt 3 continuations',
    input: chunks({ fmt: 0, csid: 6, ts: EXT, typeId: 9, streamId: 1 }, P300, 128, EXT),
    expect: [msg(6, 9, 1, EXT, P300)],
  },
  {
    name: 'timestamp of exactly 0xFFFFFF is extended',
    input: chunks({ fmt: 0, csid: 6, ts: 0xffffff, typeId: 9 }, P200, 128, 0xffffff),
    expect: [msg(6, 9, 0, 0xffffff, P200)],
  },
  {
    name: 'extended delta on fmt 1',
    input: [
      chunk({ fmt: 0, csid: 4, ts: 5, typeId: 8 }, P3),
      chunk({ fmt: 1, csid: 4, ts: EXT, typeId: 8 }, P4),
    ],
    expect: [msg(4, 8, 0, 5, P3), msg(4, 8, 0, EXT + 5, P4)],
  },
  {
    name: 'fmt 3 new message after an extended fmt 2 carries the field and reuses the delta',
    input: [
      chunk({ fmt: 0, csid: 4, ts: 10, typeId: 8 }, P3),
      chunk({ fmt: 2, csid: 4, ts: EXT }, P3),
      chunk({ fmt: 3, csid: 4, ext: EXT }, P3),
    ],
    expect: [msg(4, 8, 0, 10, P3), msg(4, 8, 0, EXT + 10, P3), msg(4, 8, 0, 2 * EXT + 10, P3)],
  },
  {
    name: 'a later non-extended header stops fmt 3 chunks carrying the field',
    input: [
      chunk({ fmt: 0, csid: 4, ts: EXT, typeId: 8 }, P3),
      chunk({ fmt: 2, csid: 4, ts: 10 }, P3),
      chunk({ fmt: 3, csid: 4 }, P3),
    ],
    expect: [msg(4, 8, 0, EXT, P3), msg(4, 8, 0, EXT + 10, P3), msg(4, 8, 0, EXT + 20, P3)],
  },
  {
    name: 'timestamp arithmetic wraps mod 2^32',
    input: [
      chunk({ fmt: 0, csid: 4, ts: 0xfffffff0, typeId: 8 }, P3),
      chunk({ fmt: 2, csid: 4, ts: 0x20 }, P3),
    ],
    expect: [msg(4, 8, 0, 0xfffffff0, P3), msg(4, 8, 0, 0x10, P3)],
  },
  {
    name: 'set chunk size applies to later chunks of the same push',
    input: [
      chunk({ fmt: 0, csid: 2, typeId: 1 }, u32Payload(4096)),
      chunk({ fmt: 0, csid: 4, typeId: 9 }, P1000),
    ],
    expect: [msg(2, 1, 0, 0, u32Payload(4096)), msg(4, 9, 0, 0, P1000)],
    chunkSize: 4096,
  },
  {
    name: 'set chunk size 1, then 1-byte chunks',
    input: [
      chunk({ fmt: 0, csid: 2, typeId: 1 }, u32Payload(1)),
      ...chunks({ fmt: 0, csid: 3, typeId: 20 }, P3, 1),
    ],
    expect: [msg(2, 1, 0, 0, u32Payload(1)), msg(3, 20, 0, 0, P3)],
    chunkSize: 1,
  },
  {
    name: 'set chunk size is honoured on any chunk stream',
    input: [
      chunk({ fmt: 0, csid: 3, typeId: 1 }, u32Payload(300)),
      chunk({ fmt: 0, csid: 4, typeId: 9 }, P300),
    ],
    expect: [msg(3, 1, 0, 0, u32Payload(300)), msg(4, 9, 0, 0, P300)],
    chunkSize: 300,
  },
  {
    name: 'abort drops the partial message; the chunk stream keeps its header state',
    input: [
      chunks({ fmt: 0, csid: 4, ts: 100, typeId: 9, streamId: 1 }, P200, 128)[0]!,
      chunk({ fmt: 0, csid: 2, typeId: 2 }, u32Payload(4)),
      chunk({ fmt: 2, csid: 4, ts: 5 }, P200.subarray(0, 128)),
      chunk({ fmt: 3, csid: 4 }, P200.subarray(128)),
    ],
    expect: [msg(2, 2, 0, 0, u32Payload(4)), msg(4, 9, 1, 105, P200)],
  },
  {
    name: 'abort of an unknown or idle chunk stream is harmless',
    input: [chunk({ fmt: 0, csid: 2, typeId: 2 }, u32Payload(9)), chunk({ fmt: 0, csid: 4, typeId: 8 }, P3)],
    expect: [msg(2, 2, 0, 0, u32Payload(9)), msg(4, 8, 0, 0, P3)],
  },
  {
    name: 'zero-length messages, also started by fmt 3',
    input: [chunk({ fmt: 0, csid: 4, ts: 7, typeId: 8 }), chunk({ fmt: 3, csid: 4 })],
    expect: [msg(4, 8, 0, 7, Buffer.alloc(0)), msg(4, 8, 0, 14, Buffer.alloc(0))],
  },
];

/** Feeds `data` in the given pieces and returns every message. */
function feed(
  pieces: Buffer[],
  limits?: Partial<ChunkReaderLimits>,
): { msgs: RtmpMessage[]; reader: ChunkReader } {
  const reader = new ChunkReader(limits);
  const msgs = pieces.flatMap((p) => reader.push(p));
  return { msgs, reader };
}

for (const c of cases) {
  test(`chunk reader: ${c.name}`, () => {
    const whole = Buffer.concat(c.input);
    const { msgs, reader } = feed([whole]);
    assert.deepEqual(msgs, c.expect);
    assert.equal(reader.chunkSize, c.chunkSize ?? 128);
    assert.equal(reader.bufferedBytes, 0);
    for (let i = 0; i <= whole.length; i++) {
      assert.deepEqual(feed([whole.subarray(0, i), whole.subarray(i)]).msgs, c.expect, `split at ${i}`);
    }
    const bytes = [...whole].map((b) => Buffer.from([b]));
    assert.deepEqual(feed(bytes).msgs, c.expect, 'byte by byte');
  });
}

const errorCases: { name: string; input: Buffer[]; code: string; limits?: Partial<ChunkReaderLimits> }[] = [
  {
    name: 'fmt 1 without previous header',
    input: [chunk({ fmt: 1, csid: 4, typeId: 8 }, P3)],
    code: 'RTMP_CHUNK_NO_PREVIOUS_HEADER',
  },
  {
    name: 'fmt 2 without previous header',
    input: [chunk({ fmt: 2, csid: 4 }, P3)],
    code: 'RTMP_CHUNK_NO_PREVIOUS_HEADER',
  },
  {
    name: 'fmt 3 without previous header',
    input: [chunk({ fmt: 3, csid: 4 }, P3)],
    code: 'RTMP_CHUNK_NO_PREVIOUS_HEADER',
  },
  {
    name: 'fmt 2 on a different csid than the known one',
    input: [chunk({ fmt: 0, csid: 4, typeId: 8 }, P3), chunk({ fmt: 2, csid: 5 }, P3)],
    code: 'RTMP_CHUNK_NO_PREVIOUS_HEADER',
  },
  {
    name: 'message over the default 8 MiB, header only',
    input: [chunk({ fmt: 0, csid: 4, typeId: 9, length: 8 * 1024 * 1024 + 1 })],
    code: 'RTMP_MESSAGE_TOO_LARGE',
  },
  {
    name: 'fmt 1 raising the length over a custom limit',
    input: [chunk({ fmt: 0, csid: 4, typeId: 9 }, P3), chunk({ fmt: 1, csid: 4, typeId: 9, length: 101 })],
    code: 'RTMP_MESSAGE_TOO_LARGE',
    limits: { maxMessageSize: 100 },
  },
  {
    name: 'too many chunk streams',
    input: [3, 4, 5, 6].map((csid) => chunk({ fmt: 0, csid, typeId: 8 }, P3)),
    code: 'RTMP_TOO_MANY_CHUNK_STREAMS',
    limits: { maxChunkStreams: 3 },
  },
  {
    name: 'chunk size 0',
    input: [chunk({ fmt: 0, csid: 2, typeId: 1 }, u32Payload(0))],
    code: 'RTMP_BAD_CHUNK_SIZE',
  },
  {
    name: 'chunk size with the high bit set',
    input: [chunk({ fmt: 0, csid: 2, typeId: 1 }, u32Payload(0x80000080))],
    code: 'RTMP_BAD_CHUNK_SIZE',
  },
  {
    name: 'chunk size over the default 16 MiB limit',
    input: [chunk({ fmt: 0, csid: 2, typeId: 1 }, u32Payload(16 * 1024 * 1024 + 1))],
    code: 'RTMP_BAD_CHUNK_SIZE',
  },
  {
    name: 'chunk size over a custom limit',
    input: [chunk({ fmt: 0, csid: 2, typeId: 1 }, u32Payload(1001))],
    code: 'RTMP_BAD_CHUNK_SIZE',
    limits: { maxChunkSize: 1000 },
  },
  {
    name: 'set chunk size payload of 3 bytes',
    input: [chunk({ fmt: 0, csid: 2, typeId: 1 }, P3)],
    code: 'RTMP_BAD_CONTROL_MESSAGE',
  },
  {
    name: 'abort payload of 3 bytes',
    input: [chunk({ fmt: 0, csid: 2, typeId: 2 }, P3)],
    code: 'RTMP_BAD_CONTROL_MESSAGE',
  },
  {
    name: 'new header on a chunk stream with a partial message',
    input: [
      chunks({ fmt: 0, csid: 4, typeId: 9 }, P200, 128)[0]!,
      chunk({ fmt: 1, csid: 4, typeId: 9, length: 3 }, P3),
    ],
    code: 'RTMP_CHUNK_INTERLEAVED_HEADER',
  },
];

for (const c of errorCases) {
  test(`chunk reader rejects: ${c.name}`, () => {
    const reader = new ChunkReader(c.limits);
    const isCode = (e: unknown): boolean => e instanceof ProtocolError && e.code === c.code;
    assert.throws(() => c.input.forEach((p) => reader.push(p)), isCode);
    // The reader stays failed.
    assert.throws(() => reader.push(Buffer.from([0x03])), isCode);
  });
}

test('chunk reader: message too large is refused at its header; one within the limit holds nothing yet', () => {
  const reader = new ChunkReader({ maxMessageSize: 1000 });
  assert.deepEqual(reader.push(chunk({ fmt: 0, csid: 4, typeId: 9, length: 1000 })), []);
  assert.equal(reader.bufferedBytes, 0);
  const r2 = new ChunkReader({ maxMessageSize: 1000 });
  assert.throws(
    () => r2.push(chunk({ fmt: 0, csid: 4, typeId: 9, length: 1001 })),
    /exceeds the limit of 1000/,
  );
  assert.equal(r2.bufferedBytes, 0);
});

test('chunk reader: bufferedBytes counts partial message and stashed header bytes; memoryBytes what holds them', () => {
  const reader = new ChunkReader();
  const [first, second] = chunks({ fmt: 0, csid: 4, ts: EXT, typeId: 9 }, P200, 128, EXT);
  assert.deepEqual(reader.push(first!.subarray(0, 5)), []);
  assert.equal(reader.bufferedBytes, 5);
  assert.equal(reader.memoryBytes, 5);
  // The 16-byte header and 4 payload bytes, kept as a 4-byte piece.
  assert.deepEqual(reader.push(first!.subarray(5, 20)), []);
  assert.equal(reader.bufferedBytes, 4);
  assert.equal(reader.memoryBytes, 4 + PIECE_OVERHEAD);
  // 128 of 200 bytes: more than an eighth, so it is kept in storage of the payload's size.
  assert.deepEqual(reader.push(first!.subarray(20)), []);
  assert.equal(reader.bufferedBytes, 128);
  assert.equal(reader.memoryBytes, 200);
  assert.deepEqual(reader.push(second!.subarray(0, 3)), []);
  assert.equal(reader.bufferedBytes, 131);
  assert.equal(reader.memoryBytes, 203);
  const out = reader.push(second!.subarray(3));
  assert.deepEqual(out, [msg(4, 9, 0, EXT, P200)]);
  assert.equal(reader.bufferedBytes, 0);
  assert.equal(reader.memoryBytes, 0);
});

test('chunk reader: payloads are exact-size copies with their own memory', () => {
  const input = Buffer.concat([
    chunk({ fmt: 0, csid: 4, typeId: 8 }, P3),
    ...chunks({ fmt: 0, csid: 6, typeId: 9 }, P300, 128),
  ]);
  const [a, b] = new ChunkReader().push(input);
  input.fill(0);
  for (const [m, expected] of [
    [a, P3],
    [b, P300],
  ] as const) {
    assert.deepEqual(m!.payload, expected);
    assert.equal(m!.payload.byteOffset, 0);
    assert.equal(m!.payload.buffer.byteLength, expected.length);
  }
});

test('chunk reader: maxBufferedBytes bounds bytes that arrived, not lengths that headers declare', () => {
  const max = 10_000;
  const r = new ChunkReader({ maxMessageSize: 100_000, maxBufferedBytes: max });
  r.push(chunk({ fmt: 0, csid: 2, typeId: 1 }, u32Payload(1000)));
  // The first 1000-byte chunks of five 100,000-byte messages: 500,000 bytes declared, 5000 sent.
  const first = Array.from({ length: 5 }, (_, i) =>
    chunk({ fmt: 0, csid: 4 + i, typeId: 9, length: 100_000 }, Buffer.alloc(1000, i)),
  );
  r.push(Buffer.concat(first));
  assert.ok(r.bufferedBytes >= 5000 && r.bufferedBytes <= max, `${r.bufferedBytes} bytes held`);
  // Then more chunks of those messages in turn, one chunk per push, until refused.
  let received = 5000;
  const refused = (): void => {
    for (let i = 0; i < 10; i++) {
      r.push(chunk({ fmt: 3, csid: 4 + (i % 5) }, Buffer.alloc(1000, i)));
      received += 1000;
      assert.equal(r.bufferedBytes, received);
    }
  };
  assert.throws(refused, (e: unknown) => e instanceof ProtocolError && e.code === 'RTMP_BUFFER_LIMIT');
  // Refused at the header of the chunk that would have passed the limit.
  assert.equal(received, max);
});
