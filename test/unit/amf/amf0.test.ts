import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteReader } from '../../../libs/bytes/byte-reader.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import {
  Amf0DecodeContext,
  AmfEcmaArray,
  MAX_AMF_DEPTH,
  decodeAmf0,
  decodeAmf0Value,
  encodeAmf0,
} from '../../../libs/amf/index.ts';
import type { AmfValue } from '../../../libs/amf/index.ts';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ONE = '3ff0000000000000';

/**
 * One row per AMF0 marker form. `hex` always decodes to `decoded`; when `value` is set,
 * encoding it must give exactly `hex`, and decoding that encoding must give `decoded`.
 */
const rows: { name: string; hex: string; decoded: AmfValue; value?: AmfValue }[] = [
  { name: 'number 1.0', hex: `00 ${ONE}`, decoded: 1, value: 1 },
  { name: 'number -0.5', hex: '00 bfe0000000000000', decoded: -0.5, value: -0.5 },
  { name: 'boolean true', hex: '01 01', decoded: true, value: true },
  { name: 'boolean false', hex: '01 00', decoded: false, value: false },
  { name: 'boolean nonzero byte is true', hex: '01 07', decoded: true },
  { name: 'string', hex: '02 0003 616263', decoded: 'abc', value: 'abc' },
  { name: 'empty string', hex: '02 0000', decoded: '', value: '' },
  { name: 'UTF-8 string', hex: '02 0002 c3a9', decoded: 'é', value: 'é' },
  {
    name: 'object',
    hex: `03 0001 61 00 ${ONE} 0001 62 05 000009`,
    decoded: { a: 1, b: null },
    value: { a: 1, b: null },
  },
  { name: 'empty object', hex: '03 000009', decoded: {}, value: {} },
  {
    name: 'nested object',
    hex: '03 0001 6f 03 0001 78 01 01 000009 000009',
    decoded: { o: { x: true } },
    value: { o: { x: true } },
  },
  { name: 'null', hex: '05', decoded: null, value: null },
  { name: 'undefined', hex: '06', decoded: undefined, value: undefined },
  {
    name: 'reference',
    hex: '0a 00000002 03 0001 61 05 000009 07 0001',
    decoded: [{ a: null }, { a: null }],
  },
  {
    name: 'ECMA array',
    hex: `08 00000001 0005 7769647468 00 ${ONE} 000009`,
    decoded: { width: 1 },
    value: new AmfEcmaArray({ width: 1 }),
  },
  {
    name: 'ECMA array with a wrong count hint',
    hex: '08 00000063 0001 61 01 01 000009',
    decoded: { a: true },
  },
  { name: 'strict array', hex: `0a 00000002 00 ${ONE} 02 0001 61`, decoded: [1, 'a'], value: [1, 'a'] },
  { name: 'empty strict array', hex: '0a 00000000', decoded: [], value: [] },
  {
    name: 'date',
    hex: '0b 426d1a94a2000000 0000',
    decoded: new Date(1e12),
    value: new Date(1e12),
  },
  { name: 'date with a time zone', hex: '0b 426d1a94a2000000 ff88', decoded: new Date(1e12) },
  { name: 'long string', hex: '0c 00000003 616263', decoded: 'abc' },
  { name: 'unsupported', hex: '0d', decoded: undefined },
  { name: 'XML document', hex: '0f 00000004 3c612f3e', decoded: '<a/>' },
  { name: 'typed object', hex: '10 0003 466f6f 0001 61 05 000009', decoded: { a: null } },
  { name: 'avmplus switch to AMF3', hex: '11 04 7f', decoded: 127 },
  // lal/SRS quirk: the last object of a message may lack its object-end.
  { name: 'ECMA array missing object-end', hex: '08 00000001 0001 61 01 01', decoded: { a: true } },
  { name: 'object missing the 09 of object-end', hex: '03 0001 61 01 01 0000', decoded: { a: true } },
];

for (const row of rows) {
  test(`amf0: ${row.name}`, () => {
    assert.deepEqual(decodeAmf0(h(row.hex)), [row.decoded]);
    if ('value' in row) {
      const encoded = encodeAmf0([row.value]);
      assert.equal(encoded.toString('hex'), row.hex.replace(/\s+/g, ''));
      assert.deepEqual(decodeAmf0(encoded), [row.decoded]);
    }
  });
}

test('amf0: long string marker above 65535 UTF-8 bytes, string marker at 65535', () => {
  const long = 'x'.repeat(70000);
  const enc = encodeAmf0([long]);
  assert.equal(enc.subarray(0, 5).toString('hex'), '0c00011170');
  assert.equal(enc.length, 5 + 70000);
  assert.deepEqual(decodeAmf0(enc), [long]);
  const edge = 'é'.repeat(65535 / 2 - 0.5) + 'x'; // 65535 bytes
  assert.equal(encodeAmf0([edge]).subarray(0, 3).toString('hex'), '02ffff');
  assert.equal(encodeAmf0([edge + 'x'])[0], 0x0c);
});

test('amf0: a reference resolves to the same object, also across values of one buffer', () => {
  const [arr] = decodeAmf0(h('0a 00000002 03 0001 61 05 000009 07 0001')) as [AmfValue[]];
  assert.equal(arr[0], arr[1]);
  const [first, second] = decodeAmf0(h('03 0001 61 05 000009 07 0000'));
  assert.equal(first, second);
});

test('amf0: a reference to a value still being decoded (a cycle) is rejected', () => {
  assert.throws(() => decodeAmf0(h('03 0004 73656c66 07 0000 000009')), { code: 'AMF_BAD_REFERENCE' });
  assert.throws(() => decodeAmf0(h('0a 00000001 07 0000')), { code: 'AMF_BAD_REFERENCE' });
});

test('amf0: references that expand past MAX_REFERENCED_BYTES are rejected', () => {
  // Element k+1 of the outer array (#0) is [ref k, ref k]: each doubles the expanded size.
  const dag = (levels: number): Buffer => {
    let hex = '0a' + (levels + 1).toString(16).padStart(8, '0');
    hex += '03 0001 73 02 03e8' + '78'.repeat(1000) + '000009'; // #1: { s: 'x' * 1000 }
    for (let k = 1; k <= levels; k++) {
      const ref = '07' + k.toString(16).padStart(4, '0');
      hex += '0a 00000002' + ref + ref;
    }
    return h(hex);
  };
  const [small] = decodeAmf0(dag(3)) as [AmfValue[][]];
  assert.equal(small[3]![0], small[2]);
  assert.throws(() => decodeAmf0(dag(40)), { code: 'AMF_TOO_LARGE' });
});

test('amf0: reference table counts objects, ECMA arrays, strict arrays and typed objects in order', () => {
  const buf = h(
    '0a 00000004' +
      ' 03 000009' + // #1 object (the strict array is #0)
      ' 08 00000000 000009' + // #2 ECMA array
      ' 10 0001 54 000009' + // #3 typed object
      ' 07 0002',
  );
  const [arr] = decodeAmf0(buf) as [AmfValue[]];
  assert.equal(arr[3], arr[1]);
});

test('amf0: decodeAmf0Value reads one value and can share a reference table', () => {
  const r = new ByteReader(h('03 000009 07 0000 05'));
  const ctx = new Amf0DecodeContext();
  const obj = decodeAmf0Value(r, ctx);
  assert.equal(decodeAmf0Value(r, ctx), obj);
  assert.equal(decodeAmf0Value(r), null);
  assert.equal(r.remaining, 0);
});

test('amf0: depth limit', () => {
  const nested = (levels: number): Buffer =>
    h('03 0001 61'.repeat(levels - 1) + '03 000009' + '000009'.repeat(levels - 1));
  assert.equal(decodeAmf0(nested(MAX_AMF_DEPTH)).length, 1);
  assert.throws(() => decodeAmf0(nested(MAX_AMF_DEPTH + 1)), { code: 'AMF_TOO_DEEP' });
  const arrays = h('0a 00000001'.repeat(MAX_AMF_DEPTH + 1) + '05');
  assert.throws(() => decodeAmf0(arrays), { code: 'AMF_TOO_DEEP' });
  // A deep enough input would overflow the stack without the limit; it must stay a ProtocolError.
  assert.throws(() => decodeAmf0(h('0a 00000001'.repeat(100000))), { code: 'AMF_TOO_DEEP' });
});

test('amf0: encoding a cyclic value fails with AMF_TOO_DEEP', () => {
  const self: Record<string, AmfValue> = {};
  self['self'] = self;
  assert.throws(() => encodeAmf0([self]), { code: 'AMF_TOO_DEEP' });
});

test('amf0: a value shared twice is encoded twice (no references are written)', () => {
  const shared = { a: 1 };
  const enc = encodeAmf0([[shared, shared]]);
  assert.equal(enc.includes(0x07), false);
  assert.deepEqual(decodeAmf0(enc), [[{ a: 1 }, { a: 1 }]]);
});

test('amf0: __proto__ keys become own properties and never touch prototypes', () => {
  const buf = h('03 0009 5f5f70726f746f5f5f 03 0006 706f6c6c6564 01 01 000009 000009');
  const [obj] = decodeAmf0(buf) as [Record<string, AmfValue>];
  assert.equal(Object.getPrototypeOf(obj), Object.prototype);
  assert.ok(Object.hasOwn(obj, '__proto__'));
  assert.deepEqual(Object.keys(obj), ['__proto__']);
  assert.equal(({} as Record<string, unknown>)['polled'], undefined);
  // Round-trips as an ordinary key.
  assert.deepEqual(encodeAmf0([obj]), buf);
});

const errors: { name: string; hex: string; code: string }[] = [
  { name: 'movieclip', hex: '04', code: 'AMF_BAD_MARKER' },
  { name: 'object-end as a value', hex: '09', code: 'AMF_BAD_MARKER' },
  { name: 'recordset', hex: '0e', code: 'AMF_BAD_MARKER' },
  { name: 'unknown marker', hex: '12', code: 'AMF_BAD_MARKER' },
  { name: 'reference with an empty table', hex: '07 0000', code: 'AMF_BAD_REFERENCE' },
  { name: 'reference past the table', hex: '0a 00000002 03 000009 07 0002', code: 'AMF_BAD_REFERENCE' },
  { name: 'truncated number', hex: '00 3ff0', code: 'BYTES_TRUNCATED' },
  { name: 'truncated string', hex: '02 0005 61', code: 'BYTES_TRUNCATED' },
  { name: 'truncated long string', hex: '0c ffffffff 61', code: 'BYTES_TRUNCATED' },
  { name: 'strict array count beyond the buffer', hex: '0a ffffffff 05', code: 'BYTES_TRUNCATED' },
  { name: 'truncated date', hex: '0b 426d1a94a2000000', code: 'BYTES_TRUNCATED' },
  { name: 'object property without a value', hex: '03 0001 61', code: 'BYTES_TRUNCATED' },
  { name: 'truncated ECMA count', hex: '08 0000', code: 'BYTES_TRUNCATED' },
  { name: 'empty input to decodeAmf0Value', hex: '', code: 'BYTES_TRUNCATED' },
];

for (const e of errors) {
  test(`amf0: rejects ${e.name} with ${e.code}`, () => {
    const decode = e.hex === '' ? () => decodeAmf0Value(new ByteReader(h(''))) : () => decodeAmf0(h(e.hex));
    assert.throws(decode, (err: unknown) => err instanceof ProtocolError && err.code === e.code);
  });
}

test('amf0: decodeAmf0 of an empty buffer is no values', () => {
  assert.deepEqual(decodeAmf0(Buffer.alloc(0)), []);
});
