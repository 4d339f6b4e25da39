import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { MAX_AMF_DEPTH, decodeAmf0 } from '../../../libs/amf/index.ts';
import type { AmfValue } from '../../../libs/amf/index.ts';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** AMF3 U29 (spec §1.3.1) for values below 2^21, as hex. */
function u29(n: number): string {
  const bytes =
    n < 0x80
      ? [n]
      : n < 0x4000
        ? [(n >> 7) | 0x80, n & 0x7f]
        : [(n >> 14) | 0x80, ((n >> 7) & 0x7f) | 0x80, n & 0x7f];
  return Buffer.from(bytes).toString('hex');
}

/** AMF3 values behind the AMF0 avmplus marker 0x11 (decode only). */
const rows: { name: string; hex: string; decoded: AmfValue }[] = [
  { name: 'undefined', hex: '00', decoded: undefined },
  { name: 'null', hex: '01', decoded: null },
  { name: 'false', hex: '02', decoded: false },
  { name: 'true', hex: '03', decoded: true },
  { name: 'integer 0', hex: '04 00', decoded: 0 },
  { name: 'integer 127 (1 byte)', hex: '04 7f', decoded: 127 },
  { name: 'integer 128 (2 bytes)', hex: '04 81 00', decoded: 128 },
  { name: 'integer 16384 (3 bytes)', hex: '04 81 80 00', decoded: 16384 },
  { name: 'integer max positive (4 bytes)', hex: '04 bf ff ff ff', decoded: 0x0fffffff },
  { name: 'integer -1 (sign-extended)', hex: '04 ff ff ff ff', decoded: -1 },
  { name: 'integer min negative', hex: '04 c0 80 80 00', decoded: -0x10000000 },
  { name: 'double', hex: '05 3ff8000000000000', decoded: 1.5 },
  { name: 'string', hex: '06 07 616263', decoded: 'abc' },
  { name: 'empty string', hex: '06 01', decoded: '' },
  { name: 'string references', hex: '09 07 01 06 07 616263 06 00 06 00', decoded: ['abc', 'abc', 'abc'] },
  { name: 'XML', hex: '0b 09 3c612f3e', decoded: '<a/>' },
  { name: 'XML document', hex: '07 09 3c612f3e', decoded: '<a/>' },
  { name: 'date', hex: '08 01 426d1a94a2000000', decoded: new Date(1e12) },
  {
    name: 'date reference',
    hex: '09 05 01 08 01 426d1a94a2000000 08 02',
    decoded: [new Date(1e12), new Date(1e12)],
  },
  { name: 'dense array', hex: '09 05 01 04 01 04 02', decoded: [1, 2] },
  { name: 'array with associative part', hex: '09 03 03 61 04 01 01 04 02', decoded: { a: 1, '0': 2 } },
  { name: 'dynamic anonymous object', hex: '0a 0b 01 03 61 04 01 01', decoded: { a: 1 } },
  { name: 'sealed typed object', hex: '0a 23 07 466f6f 03 78 03 79 04 01 04 02', decoded: { x: 1, y: 2 } },
  {
    name: 'sealed and dynamic members',
    hex: '0a 1b 01 03 78 04 01 03 7a 04 03 01',
    decoded: { x: 1, z: 3 },
  },
  { name: 'byte array as base64 string', hex: '0c 07 010203', decoded: 'base64:AQID' },
];

for (const row of rows) {
  test(`amf3: ${row.name}`, () => {
    assert.deepEqual(decodeAmf0(h(`11 ${row.hex}`)), [row.decoded]);
  });
}

test('amf3: traits references and object references', () => {
  const buf = h(
    '11 09 07 01' + // dense array of 3, no associative part
      ' 0a 23 07 466f6f 03 78 03 79 04 01 04 02' + // object #1 with inline traits #0 (Foo: x, y)
      ' 0a 01 04 03 04 04' + // object #2 by traits reference 0
      ' 0a 02', // reference to object #1
  );
  const [arr] = decodeAmf0(buf) as [AmfValue[]];
  assert.deepEqual(arr, [
    { x: 1, y: 2 },
    { x: 3, y: 4 },
    { x: 1, y: 2 },
  ]);
  assert.equal(arr[2], arr[0]);
});

test('amf3: cyclic references are rejected', () => {
  assert.throws(() => decodeAmf0(h('11 09 03 01 09 00')), { code: 'AMF_BAD_REFERENCE' });
  assert.throws(() => decodeAmf0(h('11 0a 0b 01 03 61 0a 00 01')), { code: 'AMF_BAD_REFERENCE' });
});

test('amf3: string references count toward the expansion budget', () => {
  // One 60000-byte string then references to it: 20 of them stand for 1.2 MB.
  const str = '06' + u29((60000 << 1) | 1) + '61'.repeat(60000);
  const array = (n: number): string => '09' + u29((n << 1) | 1) + '01';
  assert.throws(() => decodeAmf0(h('11' + array(21) + str + '06 00'.repeat(20))), { code: 'AMF_TOO_LARGE' });
  const [strings] = decodeAmf0(h('11' + array(3) + str + '06 00 06 00')) as [string[]];
  assert.equal(strings.length, 3);
  assert.equal(strings[2], 'a'.repeat(60000));
});

test('amf3: each avmplus switch starts fresh reference tables', () => {
  assert.deepEqual(decodeAmf0(h('11 06 07 616263 11 06 07 646566')), ['abc', 'def']);
  assert.throws(() => decodeAmf0(h('11 06 07 616263 11 06 00')), { code: 'AMF_BAD_REFERENCE' });
});

test('amf3: __proto__ dynamic keys stay own properties', () => {
  const [obj] = decodeAmf0(h('11 0a 0b 01 13 5f5f70726f746f5f5f 04 01 01')) as [Record<string, AmfValue>];
  assert.equal(Object.getPrototypeOf(obj), Object.prototype);
  assert.equal(obj['__proto__'], 1);
});

test('amf3: depth limit covers AMF0 and AMF3 levels together', () => {
  const amf0Levels = 10;
  const prefix = '03 0001 61'.repeat(amf0Levels) + '11';
  const ok = prefix + '09 03 01'.repeat(MAX_AMF_DEPTH - amf0Levels - 1) + '09 01 01';
  assert.equal(decodeAmf0(h(ok)).length, 1);
  const tooDeep = prefix + '09 03 01'.repeat(MAX_AMF_DEPTH - amf0Levels) + '09 01 01';
  assert.throws(() => decodeAmf0(h(tooDeep)), { code: 'AMF_TOO_DEEP' });
  assert.throws(() => decodeAmf0(h('11' + '0a 0b 01 03 61'.repeat(100000))), { code: 'AMF_TOO_DEEP' });
});

const errors: { name: string; hex: string; code: string }[] = [
  { name: 'externalizable object', hex: '0a 07 07 466f6f', code: 'AMF3_EXTERNALIZABLE' },
  { name: 'vector', hex: '0d 01 00', code: 'AMF3_UNSUPPORTED' },
  { name: 'dictionary', hex: '11 01 00', code: 'AMF3_UNSUPPORTED' },
  { name: 'unknown marker', hex: '12', code: 'AMF_BAD_MARKER' },
  { name: 'string reference out of range', hex: '06 02', code: 'AMF_BAD_REFERENCE' },
  { name: 'object reference out of range', hex: '0a 00', code: 'AMF_BAD_REFERENCE' },
  { name: 'traits reference out of range', hex: '0a 01', code: 'AMF_BAD_REFERENCE' },
  { name: 'truncated U29', hex: '04 ff ff', code: 'BYTES_TRUNCATED' },
  { name: 'truncated string', hex: '06 09 61', code: 'BYTES_TRUNCATED' },
  { name: 'dense count beyond the buffer', hex: '09 ff ff ff ff 01', code: 'BYTES_TRUNCATED' },
  { name: 'sealed count beyond the buffer', hex: '0a ff ff ff f3 01', code: 'BYTES_TRUNCATED' },
  { name: 'missing value after the switch', hex: '', code: 'BYTES_TRUNCATED' },
];

for (const e of errors) {
  test(`amf3: rejects ${e.name} with ${e.code}`, () => {
    assert.throws(
      () => decodeAmf0(h(`11 ${e.hex}`)),
      (err: unknown) => err instanceof ProtocolError && err.code === e.code,
    );
  });
}
