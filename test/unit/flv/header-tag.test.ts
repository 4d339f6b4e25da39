import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FlvReader,
  TagType,
  encodeFlvHeader,
  encodeFlvTag,
  parseFlvHeader,
} from '../../../libs/flv/index.ts';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const headers = [
  { hasAudio: true, hasVideo: true, hex: '464c5601 05 00000009 00000000' },
  { hasAudio: true, hasVideo: false, hex: '464c5601 04 00000009 00000000' },
  { hasAudio: false, hasVideo: true, hex: '464c5601 01 00000009 00000000' },
  { hasAudio: false, hasVideo: false, hex: '464c5601 00 00000009 00000000' },
];

for (const c of headers) {
  test(`flv header: audio=${c.hasAudio} video=${c.hasVideo} encodes, decodes and round-trips`, () => {
    const enc = encodeFlvHeader(c.hasAudio, c.hasVideo);
    assert.equal(enc.toString('hex'), c.hex.replace(/\s+/g, ''));
    assert.deepEqual(parseFlvHeader(h(c.hex)), { hasAudio: c.hasAudio, hasVideo: c.hasVideo, dataOffset: 9 });
    const reader = new FlvReader();
    assert.deepEqual(reader.push(enc), []);
    assert.deepEqual(reader.header, { hasAudio: c.hasAudio, hasVideo: c.hasVideo });
  });
}

test('flv header: bad signature, short DataOffset and truncation', () => {
  assert.throws(() => parseFlvHeader(h('464c5801 05 00000009')), { code: 'FLV_BAD_SIGNATURE' });
  assert.throws(() => parseFlvHeader(h('464c5601 05 00000008')), { code: 'FLV_BAD_HEADER' });
  assert.throws(() => parseFlvHeader(h('464c5601 05 0000')), { code: 'BYTES_TRUNCATED' });
});

const tags = [
  {
    name: 'audio at 0',
    type: TagType.Audio,
    ts: 0,
    body: 'af01aa',
    hex: '08 000003 000000 00 000000 af01aa 0000000e',
  },
  {
    name: 'video at 1000',
    type: TagType.Video,
    ts: 1000,
    body: '17',
    hex: '09 000001 0003e8 00 000000 17 0000000c',
  },
  {
    name: 'script, empty body',
    type: TagType.Script,
    ts: 5,
    body: '',
    hex: '12 000000 000005 00 000000 0000000b',
  },
  {
    name: 'timestamp 0xffffff (24 bits)',
    type: 9,
    ts: 0xffffff,
    body: '27',
    hex: '09 000001 ffffff 00 000000 27 0000000c',
  },
  {
    name: 'timestamp 0x1000000 uses the extended byte',
    type: 9,
    ts: 0x1000000,
    body: '27',
    hex: '09 000001 000000 01 000000 27 0000000c',
  },
  {
    name: 'timestamp 0x12345678',
    type: 8,
    ts: 0x12345678,
    body: '27',
    hex: '08 000001 345678 12 000000 27 0000000c',
  },
  {
    name: 'timestamp 0xffffffff',
    type: 8,
    ts: 0xffffffff,
    body: '27',
    hex: '08 000001 ffffff ff 000000 27 0000000c',
  },
];

for (const c of tags) {
  test(`flv tag: ${c.name}`, () => {
    const enc = encodeFlvTag(c.type, c.ts, h(c.body));
    assert.equal(enc.toString('hex'), c.hex.replace(/\s+/g, ''));
    const reader = new FlvReader();
    const out = reader.push(Buffer.concat([encodeFlvHeader(true, true), h(c.hex)]));
    assert.deepEqual(out, [{ type: c.type, timestampMs: c.ts, body: h(c.body) }]);
  });
}

test('flv tag: timestamps wrap modulo 2^32, body size over 24 bits is rejected', () => {
  assert.equal(encodeFlvTag(9, 2 ** 32 + 5, h('00')).toString('hex', 4, 8), '00000500');
  assert.throws(() => encodeFlvTag(9, 0, Buffer.alloc(0x1000000)), { code: 'FLV_TAG_TOO_LARGE' });
});

test('flv tag: output does not share memory with the body', () => {
  const body = h('0102');
  const enc = encodeFlvTag(9, 0, body);
  body[0] = 0xff;
  assert.equal(enc[11], 0x01);
  assert.equal(enc.length, 15 + 2);
});
