import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FlvReader, TagType, encodeFlvHeader, encodeFlvTag } from '../../../libs/flv/index.ts';
import type { FlvTag } from '../../../libs/flv/index.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';

const FIXTURE = readFileSync(new URL('../../fixtures/flv/x.flv', import.meta.url));

function assertSameTags(actual: FlvTag[], expected: FlvTag[], label: string): void {
  assert.equal(actual.length, expected.length, `${label}: tag count`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (a.type !== e.type || a.timestampMs !== e.timestampMs || !a.body.equals(e.body)) {
      assert.fail(`${label}: tag ${i} differs`);
    }
  }
}

test('flv reader: the ffmpeg fixture in one push', () => {
  const reader = new FlvReader();
  const tags = reader.push(FIXTURE);
  assert.deepEqual(reader.header, { hasAudio: true, hasVideo: true });
  assert.equal(tags.length, 32);
  assert.deepEqual(
    tags.slice(0, 4).map((t) => [t.type, t.timestampMs, t.body.length]),
    [
      [TagType.Script, 0, 293],
      [TagType.Video, 0, 50],
      [TagType.Audio, 0, 7],
      [TagType.Video, 0, 1640],
    ],
  );
  // Bodies inside one push are zero-copy views of it.
  assert.equal(tags[3]!.body.buffer, FIXTURE.buffer);
});

test('flv reader: the fixture split at every offset gives identical tags', () => {
  const expected = new FlvReader().push(FIXTURE);
  for (let at = 0; at <= FIXTURE.length; at++) {
    const reader = new FlvReader();
    const tags = [...reader.push(FIXTURE.subarray(0, at)), ...reader.push(FIXTURE.subarray(at))];
    assertSameTags(tags, expected, `split at ${at}`);
  }
});

test('flv reader: the fixture fed one byte at a time, and in copies, gives identical tags', () => {
  const expected = new FlvReader().push(FIXTURE);
  const reader = new FlvReader();
  const tags: FlvTag[] = [];
  for (let i = 0; i < FIXTURE.length; i++) tags.push(...reader.push(Buffer.from(FIXTURE.subarray(i, i + 1))));
  assertSameTags(tags, expected, 'byte by byte');
  // Bodies that spanned pushes are copies, so they survive reuse of the pushed buffers.
  assert.notEqual(tags[3]!.body.buffer, FIXTURE.buffer);
});

test('flv reader: empty pushes and a DataOffset larger than 9 are fine', () => {
  const header = Buffer.from('464c5601050000000c' + 'aabbcc' + '00000000', 'hex');
  const tag = encodeFlvTag(TagType.Video, 0x1234567, Buffer.from('1701000000', 'hex'));
  const reader = new FlvReader();
  assert.deepEqual(reader.push(Buffer.alloc(0)), []);
  assert.deepEqual(reader.push(header.subarray(0, 10)), []);
  assert.equal(reader.header?.hasVideo, true);
  const tags = reader.push(Buffer.concat([header.subarray(10), tag]));
  assert.equal(tags.length, 1);
  assert.equal(tags[0]!.timestampMs, 0x1234567);
});

test('flv reader: bad signature', () => {
  assert.throws(() => new FlvReader().push(Buffer.from('RIFF0000000000', 'latin1')), {
    code: 'FLV_BAD_SIGNATURE',
  });
});

test('flv reader: an oversized tag is rejected from its header, before the body is buffered', () => {
  const header = encodeFlvHeader(false, true);
  const tagHeader = Buffer.from('09 000401 000000 00 000000'.replace(/ /g, ''), 'hex'); // 1025 bytes
  assert.throws(() => new FlvReader({ maxTagSize: 1024 }).push(Buffer.concat([header, tagHeader])), {
    code: 'FLV_TAG_TOO_LARGE',
  });
  // Default limit: 8 MiB.
  const big = Buffer.from('09 800001 000000 00 000000'.replace(/ /g, ''), 'hex');
  assert.throws(() => new FlvReader().push(Buffer.concat([header, big])), { code: 'FLV_TAG_TOO_LARGE' });
  const atLimit = Buffer.from('09 800000 000000 00 000000'.replace(/ /g, ''), 'hex');
  assert.deepEqual(new FlvReader().push(Buffer.concat([header, atLimit])), []);
});

test('flv reader: bad PreviousTagSize, and the reader stays failed', () => {
  const tag = encodeFlvTag(TagType.Audio, 0, Buffer.from('af01', 'hex'));
  tag.writeUInt32BE(2, tag.length - 4); // the dataSize alone, a known muxer bug
  const reader = new FlvReader();
  assert.throws(() => reader.push(Buffer.concat([encodeFlvHeader(true, false), tag])), {
    code: 'FLV_BAD_PREVIOUS_TAG_SIZE',
  });
  assert.throws(
    () => reader.push(encodeFlvTag(8, 0, Buffer.alloc(1))),
    (e: unknown) => e instanceof ProtocolError,
  );
});

test('flv reader: a zero-length tag body at the very end of a push', () => {
  const stream = Buffer.concat([
    encodeFlvHeader(true, false),
    encodeFlvTag(TagType.Audio, 7, Buffer.alloc(0)),
  ]);
  const reader = new FlvReader();
  const cut = stream.length - 4; // header, tag header and (empty) body; PreviousTagSize comes later
  assert.deepEqual(reader.push(stream.subarray(0, cut)), [
    { type: TagType.Audio, timestampMs: 7, body: Buffer.alloc(0) },
  ]);
  assert.deepEqual(reader.push(stream.subarray(cut)), []);
});
