import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import {
  FlvReader,
  encodeFlvHeader,
  encodeFlvTag,
  parseAudioTag,
  parseScriptData,
  parseVideoTag,
} from '../../libs/flv/index.ts';

const RUNS = 2000;
const FIXTURE = readFileSync(new URL('../fixtures/flv/x.flv', import.meta.url));

function onlyProtocolErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
}

const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

test('fuzz flv: random bytes into the tag body parsers raise only ProtocolError', () => {
  fc.assert(
    fc.property(bytes, (buf) => {
      onlyProtocolErrors(() => parseVideoTag(buf));
      onlyProtocolErrors(() => parseAudioTag(buf));
      onlyProtocolErrors(() => parseScriptData(buf));
    }),
    { numRuns: RUNS },
  );
});

test('fuzz flv: random bytes after a valid header, in random chunks, raise only ProtocolError', () => {
  fc.assert(
    fc.property(fc.array(bytes, { maxLength: 6 }), fc.boolean(), (chunks, withHeader) => {
      const reader = new FlvReader({ maxTagSize: 4096 });
      onlyProtocolErrors(() => {
        if (withHeader) reader.push(encodeFlvHeader(true, true));
        for (const c of chunks) reader.push(c);
      });
    }),
    { numRuns: RUNS },
  );
});

test('fuzz flv: the fixture with one byte changed, split anywhere, raises only ProtocolError', () => {
  fc.assert(
    fc.property(
      fc.nat(FIXTURE.length - 1),
      fc.integer({ min: 0, max: 255 }),
      fc.nat(FIXTURE.length),
      (at, byte, split) => {
        const buf = Buffer.from(FIXTURE);
        buf[at] = byte;
        const reader = new FlvReader();
        onlyProtocolErrors(() => {
          for (const tag of [...reader.push(buf.subarray(0, split)), ...reader.push(buf.subarray(split))]) {
            if (tag.type === 9) parseVideoTag(tag.body);
            else if (tag.type === 8) parseAudioTag(tag.body);
            else if (tag.type === 18) parseScriptData(tag.body);
          }
        });
      },
    ),
    { numRuns: 500 },
  );
});

test('fuzz flv: encoded tags read back identically under any chunking', () => {
  const tag = fc.record(
    {
      type: fc.constantFrom(8, 9, 18),
      timestampMs: fc.nat({ max: 0xffffffff }),
      body: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    },
    { noNullPrototype: true },
  );
  fc.assert(
    fc.property(fc.array(tag, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 5 }), (tags, cuts) => {
      const stream = Buffer.concat([
        encodeFlvHeader(true, true),
        ...tags.map((t) => encodeFlvTag(t.type, t.timestampMs, t.body)),
      ]);
      const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      const reader = new FlvReader();
      const out = [];
      let from = 0;
      for (const p of [...points, stream.length]) {
        out.push(...reader.push(stream.subarray(from, p)));
        from = p;
      }
      assert.deepEqual(out, tags);
    }),
    { numRuns: RUNS },
  );
});
