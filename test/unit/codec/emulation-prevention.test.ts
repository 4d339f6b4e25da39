import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addEmulationPrevention, removeEmulationPrevention } from '../../../libs/codec/index.ts';

// [name, NAL payload, RBSP] both ways; add(rbsp) must give back exactly `nal`.
const cases: [string, string, string][] = [
  ['empty', '', ''],
  ['nothing to remove', '674d0028', '674d0028'],
  ['one zero then 03 is data', '010003', '010003'],
  ['00 00 03 00', '00000300', '000000'],
  ['00 00 03 01', '00000301', '000001'],
  ['00 00 03 03 keeps the second 03', '0000030301', '00000301'],
  ['zero count restarts after an escape', '0000030000030101', '000000000101'],
  ['trailing cabac_zero_word', '12000003000003', '1200000000'],
  ['real x264 SPS', '6764002bacd94078022700000300040000030032', '6764002bacd9407802270000000400000032'],
];

for (const [name, nal, rbsp] of cases) {
  test(`emulation prevention: ${name}`, () => {
    assert.equal(removeEmulationPrevention(Buffer.from(nal, 'hex')).toString('hex'), rbsp);
    assert.equal(addEmulationPrevention(Buffer.from(rbsp, 'hex')).toString('hex'), nal);
  });
}

test('emulation prevention: removal decodes 00 00 03 xx for every xx', () => {
  for (let x = 0; x < 256; x++) {
    const out = removeEmulationPrevention(Buffer.from([0xaa, 0, 0, 3, x]));
    assert.deepEqual([...out], [0xaa, 0, 0, x]);
  }
});

test('emulation prevention: nothing to remove returns a view, not a copy', () => {
  const nal = Buffer.from('ff674d0028', 'hex').subarray(1);
  const out = removeEmulationPrevention(nal);
  assert.equal(out.buffer, nal.buffer);
  assert.equal(out.byteOffset, nal.byteOffset);
  const plain = new Uint8Array([1, 2, 3]);
  const view = removeEmulationPrevention(plain);
  assert.ok(Buffer.isBuffer(view));
  assert.equal(view.buffer, plain.buffer);
});

test('emulation prevention: add then remove is the identity and leaves no start code', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 64 }).map((a) => a.map((v) => v % 4)),
      (rbsp) => {
        const nal = addEmulationPrevention(rbsp);
        assert.deepEqual([...removeEmulationPrevention(nal)], [...rbsp]);
        for (let i = 2; i < nal.length; i++) {
          assert.ok(!(nal[i - 2] === 0 && nal[i - 1] === 0 && nal[i]! <= 2), `start code at ${i}`);
        }
        // A following start code could otherwise swallow the zeros as trailing_zero_8bits.
        assert.ok(!(nal.at(-1) === 0 && nal.at(-2) === 0), 'ends in 00 00');
      },
    ),
    { numRuns: 500 },
  );
});
