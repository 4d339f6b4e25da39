// What a ChunkReader holds between pushes, and what it charges to a node-wide InputBudget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { InputBudget } from '../../../libs/limits/input-budget.ts';
import { ChunkReader } from '../../../libs/rtmp/chunk-reader.ts';
import { PIECE_OVERHEAD } from '../../../libs/rtmp/message-assembly.ts';
import type { RtmpMessage } from '../../../libs/rtmp/message-types.ts';
import { chunk, chunks, msg, pattern, u32Payload } from './chunk-builder.ts';

const isCode =
  (code: string) =>
  (e: unknown): boolean =>
    e instanceof ProtocolError && e.code === code;

/** Set Chunk Size `size`, then one message per payload, each on its own chunk stream. */
function stream(size: number, payloads: Buffer[]): { bytes: Buffer; expect: RtmpMessage[] } {
  const parts = [chunk({ fmt: 0, csid: 2, typeId: 1 }, u32Payload(size))];
  const expect = [msg(2, 1, 0, 0, u32Payload(size))];
  payloads.forEach((p, i) => {
    parts.push(...chunks({ fmt: 0, csid: 4 + i, ts: i, typeId: 9, streamId: 1 }, p, size));
    expect.push(msg(4 + i, 9, 1, i, p));
  });
  return { bytes: Buffer.concat(parts), expect };
}

test('a header declaring the largest message, then one byte of it, holds that byte', () => {
  const budget = new InputBudget(1 << 30);
  const account = budget.open();
  const reader = new ChunkReader({ maxChunkSize: 16 * 1024 * 1024 }, account);
  reader.push(chunk({ fmt: 0, csid: 2, typeId: 1 }, u32Payload(16 * 1024 * 1024)));
  reader.push(chunk({ fmt: 0, csid: 4, typeId: 9, length: 8 * 1024 * 1024 }, Buffer.of(7)));
  // One byte, in a piece of its own that costs PIECE_OVERHEAD more.
  assert.equal(reader.bufferedBytes, 1);
  assert.equal(reader.memoryBytes, 1 + PIECE_OVERHEAD);
  assert.equal(account.heldBytes, 1 + PIECE_OVERHEAD);
  assert.equal(budget.bufferedBytes, 1 + PIECE_OVERHEAD);
  account.close();
  assert.equal(budget.bufferedBytes, 0);
});

test('memory kept is what arrived plus a few piece overheads, or the full length once an eighth is there', () => {
  const length = 100_000;
  const payload = pattern(length, 9);
  const { bytes, expect } = stream(length, [payload]);
  const headerEnd = bytes.length - length; // the message is one chunk: payload bytes are the tail
  for (const step of [1, 7, 100, 4096, 30_000]) {
    const reader = new ChunkReader();
    const got: RtmpMessage[] = [];
    for (let at = 0; at < bytes.length; at += step) {
      got.push(...reader.push(bytes.subarray(at, at + step)));
      const received = Math.max(0, Math.min(at + step, bytes.length) - headerEnd);
      if (received === 0 || received === length) continue;
      assert.equal(reader.bufferedBytes, received);
      const held = reader.memoryBytes;
      const ok =
        received * 8 >= length ? held === length : held > received && held <= received + 20 * PIECE_OVERHEAD;
      assert.ok(ok, `step ${step}: ${held} bytes held for ${received} received`);
    }
    assert.deepEqual(got, expect, `step ${step}`);
    assert.equal(reader.memoryBytes, 0);
  }
});

test('a message trickling in past half the limits is kept in a few pieces', () => {
  // A node budget of 64 KiB has no spare half for a 60,000-byte message: pieces only.
  const budget = new InputBudget(64 * 1024);
  const account = budget.open();
  const reader = new ChunkReader({}, account);
  const length = 60_000;
  const { bytes, expect } = stream(length, [pattern(length, 3)]);
  const got: RtmpMessage[] = [];
  let most = 0;
  for (let at = 0; at < bytes.length; at += 3) {
    got.push(...reader.push(bytes.subarray(at, at + 3)));
    most = Math.max(most, reader.memoryBytes - reader.bufferedBytes);
  }
  assert.deepEqual(got, expect);
  // 20,000 pushes; the pieces never cost more than 20 overheads.
  assert.ok(most <= 20 * PIECE_OVERHEAD, `${most / PIECE_OVERHEAD} pieces at most`);
  assert.equal(budget.bufferedBytes, 0);
});

test('where TCP splits the stream never changes the outcome, up to RTMP_BUFFER_LIMIT', () => {
  const limits = {
    maxChunkSize: 64 * 1024,
    maxMessageSize: 16 * 1024,
    maxChunkStreams: 8,
    maxBufferedBytes: 32 * 1024,
  };
  // Set Chunk Size 4000, then the first 4000-byte chunks of eight 16 KiB messages: 32,000 bytes
  // incomplete, within the limit; a ninth chunk passes it.
  const parts = [chunk({ fmt: 0, csid: 2, typeId: 1 }, u32Payload(4000))];
  for (let i = 0; i < 7; i++)
    parts.push(chunk({ fmt: 0, csid: 4 + i, typeId: 9, length: 16 * 1024 }, pattern(4000, i)));
  parts.push(chunk({ fmt: 3, csid: 4 }, pattern(4000, 9)), chunk({ fmt: 3, csid: 5 }, pattern(4000, 10)));
  const bytes = Buffer.concat(parts);
  const outcome = (step: number): string => {
    const reader = new ChunkReader(limits);
    try {
      for (let at = 0; at < bytes.length; at += step) reader.push(bytes.subarray(at, at + step));
      return `ok ${reader.bufferedBytes}`;
    } catch (e) {
      return e instanceof ProtocolError ? `${e.code} with ${reader.bufferedBytes}` : String(e);
    }
  };
  const whole = outcome(bytes.length);
  assert.equal(whole, 'RTMP_BUFFER_LIMIT with 32000');
  for (const step of [1, 2, 3, 13, 128, 1000, 4001, 9999])
    assert.equal(outcome(step), whole, `pushes of ${step}`);
});

test('payloads are exact-size buffers of their own, also when the caller reuses its read buffer', () => {
  const { bytes, expect } = stream(4096, [
    pattern(3, 1),
    pattern(5000, 2),
    pattern(70_000, 3),
    pattern(128, 4),
  ]);
  for (const step of [1, 100, 4099, 65_536]) {
    const reader = new ChunkReader();
    const socketBuffer = Buffer.alloc(step);
    const got: RtmpMessage[] = [];
    for (let at = 0; at < bytes.length; at += step) {
      const n = bytes.copy(socketBuffer, 0, at, at + step);
      got.push(...reader.push(socketBuffer.subarray(0, n)));
      socketBuffer.fill(0xee); // what the next read would do to it
    }
    assert.deepEqual(got, expect, `step ${step}`);
    for (const m of got) {
      assert.equal(m.payload.byteOffset, 0);
      assert.equal(m.payload.buffer.byteLength, m.payload.length, `step ${step}: payload owns its memory`);
    }
  }
});

test('the charge equals what the reader holds after every push and returns to zero', () => {
  const budget = new InputBudget(1 << 20);
  const session = Buffer.concat([
    ...chunks({ fmt: 0, csid: 4, ts: 0x1000000, typeId: 9 }, pattern(700, 5), 128, 0x1000000),
    chunk({ fmt: 0, csid: 5, typeId: 8 }, pattern(90, 6)),
    chunk({ fmt: 0, csid: 2, typeId: 1 }, u32Payload(300)),
    ...chunks({ fmt: 0, csid: 6, typeId: 9 }, pattern(1000, 7), 300),
  ]);
  for (let i = 0; i <= session.length; i++) {
    for (const j of [i, Math.min(session.length, i + 5), Math.min(session.length, i + 333)]) {
      const account = budget.open();
      const reader = new ChunkReader({}, account);
      let n = 0;
      for (const piece of [session.subarray(0, i), session.subarray(i, j), session.subarray(j)]) {
        n += reader.push(piece).length;
        assert.equal(account.heldBytes, reader.memoryBytes, `split at ${i}, ${j}`);
      }
      assert.equal(n, 4);
      assert.equal(account.heldBytes, 0);
      account.close();
    }
  }
  assert.equal(budget.bufferedBytes, 0);
});

test('abort releases the partial message', () => {
  const budget = new InputBudget(1 << 20);
  const account = budget.open();
  const reader = new ChunkReader({}, account);
  reader.push(chunks({ fmt: 0, csid: 4, typeId: 9 }, pattern(1000, 1), 128)[0]!);
  assert.ok(account.heldBytes >= 128);
  reader.push(chunk({ fmt: 0, csid: 2, typeId: 2 }, u32Payload(4)));
  assert.equal(reader.bufferedBytes, 0);
  assert.equal(budget.bufferedBytes, 0);
});

test('over the node budget: RTMP_NODE_INPUT_BUDGET for the reader that asks, others unaffected', () => {
  const budget = new InputBudget(1700);
  const a = budget.open();
  const b = budget.open();
  const ra = new ChunkReader({}, a);
  const rb = new ChunkReader({}, b);
  const big = pattern(2000, 1);
  const aChunks = chunks({ fmt: 0, csid: 4, typeId: 9 }, big, 128);
  const bChunks = chunks({ fmt: 0, csid: 4, typeId: 9 }, big, 128);
  // 640 bytes: a full-length 2000 would pass half the budget, so one exact piece.
  ra.push(Buffer.concat(aChunks.slice(0, 5)));
  assert.equal(a.heldBytes, 640 + PIECE_OVERHEAD);
  rb.push(bChunks[0]!);
  rb.push(bChunks[1]!); // merged with the first piece: one piece of 256
  assert.equal(b.heldBytes, 256 + PIECE_OVERHEAD);
  // 384 bytes in two pieces: 896 + 896 > 1700.
  assert.throws(() => rb.push(bChunks[2]!), isCode('RTMP_NODE_INPUT_BUDGET'));
  b.close();
  assert.equal(budget.bufferedBytes, 640 + PIECE_OVERHEAD);
  // A's message completes within the budget.
  assert.deepEqual(ra.push(Buffer.concat(aChunks.slice(5))), [msg(4, 9, 0, 0, big)]);
  assert.equal(budget.bufferedBytes, 0);
});

test('full-length storage ahead of the bytes is taken only from the spare half of the node budget', () => {
  const budget = new InputBudget(10_000);
  const a = budget.open();
  new ChunkReader({}, a).push(chunks({ fmt: 0, csid: 4, typeId: 9 }, pattern(1000, 1), 128)[0]!);
  assert.equal(a.heldBytes, 1000, '128 of 1000 bytes: the whole 1000 fit in the spare half');
  const b = budget.open();
  const reader = new ChunkReader({}, b);
  reader.push(chunk({ fmt: 0, csid: 2, typeId: 1 }, u32Payload(4000)));
  reader.push(chunk({ fmt: 0, csid: 4, typeId: 9, length: 8000 }, pattern(1000, 2)));
  assert.equal(b.heldBytes, 1000 + PIECE_OVERHEAD, 'a full 8000 would pass half the budget');
});

test('closing the account of a failed reader returns what it held', () => {
  const budget = new InputBudget(1 << 20);
  const account = budget.open();
  const reader = new ChunkReader({}, account);
  const [first] = chunks({ fmt: 0, csid: 4, typeId: 9 }, pattern(1000, 1), 128);
  reader.push(Buffer.concat([first!, Buffer.of(0x04)])); // a partial message and a stashed header byte
  assert.ok(budget.bufferedBytes > 128);
  assert.throws(() => reader.push(chunk({ fmt: 1, csid: 4, typeId: 9 }, Buffer.alloc(3))));
  account.close();
  assert.equal(budget.bufferedBytes, 0);
  assert.equal(account.tryCharge(1), false, 'a closed account charges nothing');
});

test('one-byte chunks of interleaved messages cut at every offset arrive intact', () => {
  const a = chunks({ fmt: 0, csid: 4, typeId: 9, streamId: 1 }, pattern(300, 1), 1);
  const b = chunks({ fmt: 0, csid: 5, typeId: 8, streamId: 1 }, pattern(200, 2), 1);
  const parts = [chunk({ fmt: 0, csid: 2, typeId: 1 }, u32Payload(1))];
  for (let i = 0; i < a.length; i++) parts.push(a[i]!, ...(b[i] ? [b[i]!] : []));
  const bytes = Buffer.concat(parts);
  const expect = [
    msg(2, 1, 0, 0, u32Payload(1)),
    msg(5, 8, 1, 0, pattern(200, 2)),
    msg(4, 9, 1, 0, pattern(300, 1)),
  ];
  for (let cut = 0; cut <= bytes.length; cut += 7) {
    const budget = new InputBudget(1 << 20);
    const account = budget.open();
    const reader = new ChunkReader({}, account);
    const got = [...reader.push(bytes.subarray(0, cut))];
    assert.ok(reader.bufferedBytes <= 500 + 4 * PIECE_OVERHEAD + 18, `cut ${cut}: ${reader.bufferedBytes}`);
    got.push(...reader.push(bytes.subarray(cut)));
    assert.deepEqual(got, expect, `cut at ${cut}`);
    assert.equal(budget.bufferedBytes, 0);
  }
});
