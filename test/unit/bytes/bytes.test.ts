import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteReader, ByteWriter, BitReader, BitWriter } from '../../../libs/bytes/index.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';

const fixed = [
  { name: 'u8', w: (x: ByteWriter) => x.u8(0xab), r: (x: ByteReader) => x.u8(), v: 0xab, hex: 'ab' },
  {
    name: 'u16be',
    w: (x: ByteWriter) => x.u16be(0x1234),
    r: (x: ByteReader) => x.u16be(),
    v: 0x1234,
    hex: '1234',
  },
  {
    name: 'u24be',
    w: (x: ByteWriter) => x.u24be(0xfedcba),
    r: (x: ByteReader) => x.u24be(),
    v: 0xfedcba,
    hex: 'fedcba',
  },
  { name: 'i24be', w: (x: ByteWriter) => x.i24be(-2), r: (x: ByteReader) => x.i24be(), v: -2, hex: 'fffffe' },
  {
    name: 'u32be',
    w: (x: ByteWriter) => x.u32be(0xdeadbeef),
    r: (x: ByteReader) => x.u32be(),
    v: 0xdeadbeef,
    hex: 'deadbeef',
  },
  {
    name: 'u32le',
    w: (x: ByteWriter) => x.u32le(0xdeadbeef),
    r: (x: ByteReader) => x.u32le(),
    v: 0xdeadbeef,
    hex: 'efbeadde',
  },
  {
    name: 'f64be',
    w: (x: ByteWriter) => x.f64be(1.5),
    r: (x: ByteReader) => x.f64be(),
    v: 1.5,
    hex: '3ff8000000000000',
  },
] as const;

for (const c of fixed) {
  test(`bytes: ${c.name} encodes, decodes and rejects truncation`, () => {
    const w = new ByteWriter(1);
    c.w(w);
    const buf = Buffer.from(w.toBuffer());
    assert.equal(buf.toString('hex'), c.hex);
    assert.equal(c.r(new ByteReader(buf)), c.v);
    assert.throws(() => c.r(new ByteReader(buf.subarray(0, buf.length - 1))), ProtocolError);
  });
}

test('bytes: reader views are zero-copy and bounded by end', () => {
  const buf = Buffer.from([1, 2, 3, 4, 5]);
  const r = new ByteReader(buf, 1, 4);
  const v = r.bytes(2);
  buf[1] = 9;
  assert.equal(v[0], 9);
  assert.equal(r.remaining, 1);
  assert.throws(() => r.bytes(2, 'tag body'), /truncated tag body/);
  assert.deepEqual([...r.rest()], [4]);
});

test('bytes: writer grows past its initial capacity', () => {
  const w = new ByteWriter(16);
  for (let i = 0; i < 1000; i++) w.u32be(i);
  const r = new ByteReader(w.toBuffer());
  for (let i = 0; i < 1000; i++) assert.equal(r.u32be(), i);
});

const golomb = [
  { ue: 0, bits: '1' },
  { ue: 1, bits: '010' },
  { ue: 2, bits: '011' },
  { ue: 3, bits: '00100' },
  { ue: 7, bits: '0001000' },
  { ue: 254, bits: '000000011111111' },
];

for (const g of golomb) {
  test(`bits: ue(${g.ue}) is ${g.bits}`, () => {
    const w = new BitWriter().ue(g.ue);
    const expected = new BitWriter();
    for (const ch of g.bits) expected.bit(ch === '1');
    assert.deepEqual(w.toBuffer(), expected.toBuffer());
    assert.equal(new BitReader(w.toBuffer()).ue(), g.ue);
  });
}

test('bits: se round-trips and bits() reads 32-bit values unsigned', () => {
  for (const v of [0, 1, -1, 2, -2, 100, -100]) {
    assert.equal(new BitReader(new BitWriter().se(v).toBuffer()).se(), v);
  }
  const r = new BitReader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x80]));
  assert.equal(r.bits(32), 0xffffffff);
  assert.equal(r.bit(), 1);
  assert.equal(r.bitsLeft, 7);
});

test('bits: truncated and overlong exp-Golomb codes raise ProtocolError', () => {
  assert.throws(() => new BitReader(Buffer.from([0x00])).ue(), ProtocolError);
  assert.throws(
    () => new BitReader(Buffer.alloc(8)).ue(),
    (e: unknown) => e instanceof ProtocolError,
  );
  assert.throws(() => new BitReader(Buffer.from([0x01])).bits(9), ProtocolError);
});
