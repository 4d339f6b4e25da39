// Random and mutated input into the RTMP chunk layer parsers raises only ProtocolError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChunkReader } from '../../libs/rtmp/chunk-reader.ts';
import type { ChunkReaderLimits } from '../../libs/rtmp/chunk-reader.ts';
import { encodeMessage } from '../../libs/rtmp/chunk-writer.ts';
import { splitAggregate } from '../../libs/rtmp/aggregate.ts';
import {
  abortMessage,
  parseSetPeerBandwidth,
  parseU32Control,
  parseUserControl,
  setChunkSizeMessage,
} from '../../libs/rtmp/control.ts';
import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import { InputBudget } from '../../libs/limits/input-budget.ts';

const RUNS = 2000;
// Small limits keep allocations small and reach the limit checks often.
const LIMITS = { maxMessageSize: 64 * 1024, maxChunkStreams: 8, maxChunkSize: 64 * 1024 };

function onlyProtocolErrors(run: () => void): void {
  try {
    run();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
}

/** Feeds `data` to a fresh reader in pieces cut at `cuts` (fractions of the length). */
function feed(data: Uint8Array, cuts: number[], limits: Partial<ChunkReaderLimits> = LIMITS): void {
  const buf = Buffer.from(data);
  const reader = new ChunkReader(limits);
  const offsets = cuts.map((c) => Math.floor(c * buf.length)).sort((a, b) => a - b);
  let at = 0;
  for (const o of [...offsets, buf.length]) {
    for (const m of reader.push(buf.subarray(at, o))) assert.ok(Buffer.isBuffer(m.payload));
    at = o;
    assert.ok(reader.bufferedBytes >= 0);
  }
}

const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 });

test('fuzz: random bytes into ChunkReader', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2048 }), cutsArb, (data, cuts) => {
      onlyProtocolErrors(() => feed(data, cuts));
    }),
    { numRuns: RUNS },
  );
});

test('fuzz: random bytes into ChunkReader with default limits', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (data) => {
      onlyProtocolErrors(() => feed(data, [], {}));
    }),
    { numRuns: RUNS },
  );
});

/** A valid stream: chunk size change, abort, several chunk streams, an extended timestamp. */
function validStream(): Buffer {
  const parts: Buffer[] = [encodeMessage(setChunkSizeMessage(100), 128)];
  const payload = Buffer.alloc(700, 0x5a);
  for (let i = 0; i < 12; i++) {
    const csid = [3, 4, 6, 70, 400][i % 5]!;
    const ts = i === 7 ? 0x1234567 : i * 40;
    parts.push(
      encodeMessage(
        { csid, typeId: 8 + (i % 2), streamId: 1, timestamp: ts, payload: payload.subarray(0, i * 60) },
        100,
      ),
    );
  }
  parts.push(encodeMessage(abortMessage(4), 100));
  return Buffer.concat(parts);
}
const VALID = validStream();

test('fuzz: the unmutated stream is valid', () => {
  assert.equal(new ChunkReader(LIMITS).push(VALID).length, 14);
});

test('fuzz: mutations of a valid chunk stream into ChunkReader', () => {
  const mutation = fc.array(fc.tuple(fc.nat({ max: VALID.length - 1 }), fc.integer({ min: 0, max: 255 })), {
    minLength: 1,
    maxLength: 8,
  });
  fc.assert(
    fc.property(mutation, fc.nat({ max: VALID.length }), cutsArb, (edits, truncate, cuts) => {
      const data = Buffer.from(VALID.subarray(0, Math.max(truncate, VALID.length >> 1)));
      for (const [at, value] of edits) if (at < data.length) data[at] = value;
      onlyProtocolErrors(() => feed(data, cuts));
    }),
    { numRuns: RUNS },
  );
});

test('fuzz: mutated streams charge exactly what the reader holds, and closing returns it all', () => {
  const mutation = fc.array(fc.tuple(fc.nat({ max: VALID.length - 1 }), fc.integer({ min: 0, max: 255 })), {
    maxLength: 8,
  });
  const budget = new InputBudget(64 * 1024);
  fc.assert(
    fc.property(mutation, fc.array(fc.nat({ max: VALID.length }), { maxLength: 6 }), (edits, cuts) => {
      const data = Buffer.from(VALID);
      for (const [at, value] of edits) data[at] = value;
      const account = budget.open();
      const reader = new ChunkReader(LIMITS, account);
      let at = 0;
      onlyProtocolErrors(() => {
        for (const o of [...cuts.sort((a, b) => a - b), data.length]) {
          reader.push(data.subarray(at, o));
          at = o;
          assert.equal(account.heldBytes, reader.memoryBytes);
        }
      });
      account.close();
      assert.equal(budget.bufferedBytes, 0);
    }),
    { numRuns: RUNS },
  );
});

test('fuzz: random bytes into splitAggregate and control parsers', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (data, timestamp) => {
      const payload = Buffer.from(data);
      onlyProtocolErrors(() => splitAggregate({ csid: 6, typeId: 22, streamId: 1, timestamp, payload }));
      onlyProtocolErrors(() => parseUserControl(payload));
      onlyProtocolErrors(() => parseU32Control(payload, 'ack'));
      onlyProtocolErrors(() => parseSetPeerBandwidth(payload));
    }),
    { numRuns: RUNS },
  );
});

test('fuzz: well-formed aggregates with random fields split without error', () => {
  const subArb = fc.record({
    typeId: fc.constantFrom(8, 9, 18),
    ts: fc.nat(),
    data: fc.uint8Array({ maxLength: 40 }),
  });
  fc.assert(
    fc.property(fc.array(subArb, { maxLength: 6 }), fc.nat(), (subs, timestamp) => {
      const payload = Buffer.concat(
        subs.map((s) => {
          const b = Buffer.alloc(11 + s.data.length + 4);
          b[0] = s.typeId;
          b.writeUIntBE(s.data.length, 1, 3);
          b.writeUIntBE(s.ts & 0xffffff, 4, 3);
          b[7] = s.ts >>> 24;
          b.set(s.data, 11);
          return b;
        }),
      );
      const out = splitAggregate({ csid: 6, typeId: 22, streamId: 1, timestamp, payload });
      assert.equal(out.length, subs.length);
      if (out.length > 0) assert.equal(out[0]!.timestamp, timestamp);
    }),
    { numRuns: RUNS },
  );
});
