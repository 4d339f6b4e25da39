// A realistic publish session as chunks (commands, metadata, interleaved audio/video, chunk
// size changes, abort, extended timestamps), fed to the reader split at every offset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkReader } from '../../../libs/rtmp/chunk-reader.ts';
import type { RtmpMessage } from '../../../libs/rtmp/message-types.ts';
import { chunk, chunks, msg, pattern, u32Payload } from './chunk-builder.ts';

const EXT = 0x01000000;

function buildSession(): { bytes: Buffer; expected: RtmpMessage[] } {
  const pieces: Buffer[] = [];
  const expected: RtmpMessage[] = [];
  let seed = 1;
  const p = (n: number): Buffer => pattern(n, seed++);

  // Window ack size, then connect (300 bytes: 3 chunks of 128).
  pieces.push(chunk({ fmt: 0, csid: 2, typeId: 5 }, u32Payload(2500000)));
  expected.push(msg(2, 5, 0, 0, u32Payload(2500000)));
  const connect = p(300);
  pieces.push(...chunks({ fmt: 0, csid: 3, typeId: 20 }, connect, 128));
  expected.push(msg(3, 20, 0, 0, connect));

  // Set chunk size 256 on csid 2 with fmt 1; createStream on csid 3 with fmt 1.
  pieces.push(chunk({ fmt: 1, csid: 2, typeId: 1 }, u32Payload(256)));
  expected.push(msg(2, 1, 0, 0, u32Payload(256)));
  const createStream = p(50);
  pieces.push(chunk({ fmt: 1, csid: 3, typeId: 20 }, createStream));
  expected.push(msg(3, 20, 0, 0, createStream));

  // publish on csid 8, stream 1; @setDataFrame (400 bytes: 2 chunks) on csid 4.
  const publish = p(80);
  pieces.push(chunk({ fmt: 0, csid: 8, typeId: 20, streamId: 1 }, publish));
  expected.push(msg(8, 20, 1, 0, publish));
  const meta = p(400);
  pieces.push(...chunks({ fmt: 0, csid: 4, typeId: 18, streamId: 1 }, meta, 256));
  expected.push(msg(4, 18, 1, 0, meta));

  // Video 1000 bytes (4 chunks) interleaved with audio 300 bytes (2 chunks).
  const v0 = p(1000);
  const a0 = p(300);
  const vc = chunks({ fmt: 0, csid: 6, typeId: 9, streamId: 1 }, v0, 256);
  const ac = chunks({ fmt: 0, csid: 5, typeId: 8, streamId: 1 }, a0, 256);
  pieces.push(vc[0]!, ac[0]!, vc[1]!, ac[1]!, vc[2]!, vc[3]!);
  expected.push(msg(5, 8, 1, 0, a0), msg(6, 9, 1, 0, v0));

  // Audio: fmt 2 delta 23, then two fmt 3 new messages reusing it.
  for (const [fmt, ts] of [
    [2, 23],
    [3, 46],
    [3, 69],
  ] as const) {
    const a = p(300);
    pieces.push(...chunks({ fmt, csid: 5, ts: 23 }, a, 256));
    expected.push(msg(5, 8, 1, ts, a));
  }

  // Video fmt 1 delta 33 (700 bytes), then fmt 2 delta 33 interleaved with a fmt 3 audio.
  const v1 = p(700);
  pieces.push(...chunks({ fmt: 1, csid: 6, ts: 33, typeId: 9 }, v1, 256));
  expected.push(msg(6, 9, 1, 33, v1));
  const v2 = p(700);
  const a4 = p(300);
  const v2c = chunks({ fmt: 2, csid: 6, ts: 33 }, v2, 256);
  const a4c = chunks({ fmt: 3, csid: 5 }, a4, 256);
  pieces.push(v2c[0]!, a4c[0]!, v2c[1]!, a4c[1]!, v2c[2]!);
  expected.push(msg(5, 8, 1, 92, a4), msg(6, 9, 1, 66, v2));

  // 2-byte and 3-byte chunk stream ids.
  const d = p(20);
  pieces.push(chunk({ fmt: 0, csid: 100, ts: 70, typeId: 18, streamId: 1 }, d));
  expected.push(msg(100, 18, 1, 70, d));
  const v3 = p(600);
  pieces.push(...chunks({ fmt: 0, csid: 400, ts: 80, typeId: 9, streamId: 1 }, v3, 256));
  expected.push(msg(400, 9, 1, 80, v3));

  // A partial message on csid 7, aborted, then a fresh one.
  pieces.push(chunks({ fmt: 0, csid: 7, ts: 90, typeId: 9, streamId: 1 }, p(500), 256)[0]!);
  pieces.push(chunk({ fmt: 1, csid: 2, typeId: 2 }, u32Payload(7)));
  expected.push(msg(2, 2, 0, 0, u32Payload(7)));
  const v4 = p(10);
  pieces.push(chunk({ fmt: 0, csid: 7, ts: 95, typeId: 9, streamId: 1 }, v4));
  expected.push(msg(7, 9, 1, 95, v4));

  // Extended timestamps: fmt 0 with continuations, then a fmt 3 new message (delta = EXT).
  const v5 = p(600);
  pieces.push(...chunks({ fmt: 0, csid: 6, ts: EXT, typeId: 9, streamId: 1 }, v5, 256, EXT));
  expected.push(msg(6, 9, 1, EXT, v5));
  const v6 = p(600);
  pieces.push(...chunks({ fmt: 3, csid: 6, ext: EXT }, v6, 256, EXT));
  expected.push(msg(6, 9, 1, 2 * EXT, v6));

  // Zero-length audio, a command, then chunk size 4096 and a 5000-byte video (2 chunks).
  pieces.push(chunk({ fmt: 1, csid: 5, ts: 10, typeId: 8, length: 0 }));
  expected.push(msg(5, 8, 1, 102, Buffer.alloc(0)));
  const cmd = p(30);
  pieces.push(chunk({ fmt: 0, csid: 3, typeId: 20, streamId: 1 }, cmd));
  expected.push(msg(3, 20, 1, 0, cmd));
  pieces.push(chunk({ fmt: 1, csid: 2, typeId: 1 }, u32Payload(4096)));
  expected.push(msg(2, 1, 0, 0, u32Payload(4096)));
  const v7 = p(5000);
  pieces.push(...chunks({ fmt: 1, csid: 6, ts: 40, typeId: 9 }, v7, 4096));
  expected.push(msg(6, 9, 1, 2 * EXT + 40, v7));

  return { bytes: Buffer.concat(pieces), expected };
}

const { bytes, expected } = buildSession();

function check(reader: ChunkReader, got: RtmpMessage[], label: string): void {
  assert.deepEqual(got, expected, label);
  assert.equal(reader.bufferedBytes, 0, label);
  assert.equal(reader.chunkSize, 4096, label);
}

test('chunk stream: the session parses whole', () => {
  assert.ok(expected.length >= 20);
  const reader = new ChunkReader();
  check(reader, reader.push(bytes), 'whole');
});

test('chunk stream: split at every offset into two pushes', () => {
  for (let i = 0; i <= bytes.length; i++) {
    const reader = new ChunkReader();
    const got = reader.push(bytes.subarray(0, i));
    got.push(...reader.push(bytes.subarray(i)));
    check(reader, got, `split at ${i}`);
  }
});

test('chunk stream: byte by byte', () => {
  const reader = new ChunkReader();
  const got: RtmpMessage[] = [];
  for (let i = 0; i < bytes.length; i++) got.push(...reader.push(bytes.subarray(i, i + 1)));
  check(reader, got, 'byte by byte');
});

test('chunk stream: three pushes at pseudo-random offsets', () => {
  let x = 12345;
  for (let n = 0; n < 500; n++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const a = x % (bytes.length + 1);
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const b = a + (x % (bytes.length + 1 - a));
    const reader = new ChunkReader();
    const got = [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)].flatMap((s) =>
      reader.push(s),
    );
    check(reader, got, `splits at ${a}, ${b}`);
  }
});
