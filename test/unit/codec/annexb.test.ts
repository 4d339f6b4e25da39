import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  annexBToLengthPrefixed,
  lengthPrefixedToAnnexB,
  nalusToAnnexB,
  nalusToLengthPrefixed,
  splitAnnexB,
  splitLengthPrefixed,
} from '../../../libs/codec/index.ts';
import type { NalLengthSize } from '../../../libs/codec/index.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { fixture } from './fixtures.ts';

const hex = (bufs: Buffer[]): string[] => bufs.map((b) => b.toString('hex'));

const splitCases: [string, string, string[]][] = [
  ['empty', '', []],
  ['4-byte start codes', '0000000167aa0000000168bb', ['67aa', '68bb']],
  ['3-byte start codes', '00000167aa00000168bb', ['67aa', '68bb']],
  ['mixed 3- and 4-byte', '0000000167aa00000168bb0000000165cc', ['67aa', '68bb', '65cc']],
  ['leading_zero_8bits', '000000000000000167aa', ['67aa']],
  ['bytes before the first start code are skipped', 'deadbeef00000167aa', ['67aa']],
  ['trailing_zero_8bits trimmed', '00000167aa000000000000000168bb0000', ['67aa', '68bb']],
  ['empty NAL units dropped', '000001000001000000010000000167aa000001', ['67aa']],
  ['no start code', '67aabbcc', []],
  ['one zero inside a NAL stays', '00000167aa00bb', ['67aa00bb']],
];

for (const [name, input, nalus] of splitCases) {
  test(`splitAnnexB: ${name}`, () => {
    assert.deepEqual(hex(splitAnnexB(Buffer.from(input, 'hex'))), nalus);
  });
}

test('splitAnnexB: returns views into the input', () => {
  const buf = Buffer.from('0000000167aa00000168bb', 'hex');
  const [sps] = splitAnnexB(buf);
  assert.equal(sps!.buffer, buf.buffer);
  buf[4] = 0x27;
  assert.equal(sps![0], 0x27);
});

test('nalusToAnnexB: 4-byte start codes in one buffer', () => {
  const out = nalusToAnnexB([Buffer.from('67aa', 'hex'), Buffer.from('68', 'hex')]);
  assert.equal(out.toString('hex'), '0000000167aa0000000168');
  assert.equal(nalusToAnnexB([]).length, 0);
});

const lengthCases: [NalLengthSize, string][] = [
  [1, '0267aa0168'],
  [2, '000267aa000168'],
  [4, '0000000267aa0000000168'],
];

for (const [size, encoded] of lengthCases) {
  test(`length-prefixed ${size}-byte: encode, split and zero-copy`, () => {
    const nalus = [Buffer.from('67aa', 'hex'), Buffer.from('68', 'hex')];
    assert.equal(nalusToLengthPrefixed(nalus, size).toString('hex'), encoded);
    const buf = Buffer.from(encoded, 'hex');
    const split = splitLengthPrefixed(buf, size);
    assert.deepEqual(hex(split), ['67aa', '68']);
    assert.equal(split[0]!.buffer, buf.buffer);
  });
}

test('nalusToLengthPrefixed defaults to 4-byte lengths', () => {
  assert.equal(nalusToLengthPrefixed([Buffer.from('65', 'hex')]).toString('hex'), '0000000165');
});

test('splitLengthPrefixed: zero-length entries are dropped', () => {
  assert.deepEqual(hex(splitLengthPrefixed(Buffer.from('0000000165', 'hex'), 2)), ['65']);
});

const lengthErrors: [string, string, NalLengthSize][] = [
  ['length overruns the sample', '0000000567aa', 4],
  ['truncated length field', '000167aa00', 2],
  ['1-byte length overruns', '0567', 1],
  ['truncated 4-byte length', '000000', 4],
];

for (const [name, input, size] of lengthErrors) {
  test(`splitLengthPrefixed: ${name} -> CODEC_BAD_NALU_LENGTH`, () => {
    assert.throws(
      () => splitLengthPrefixed(Buffer.from(input, 'hex'), size),
      (e) => e instanceof ProtocolError && e.code === 'CODEC_BAD_NALU_LENGTH',
    );
  });
}

test('nalusToLengthPrefixed: a NAL unit too long for the length field -> CODEC_BAD_NALU_LENGTH', () => {
  assert.throws(
    () => nalusToLengthPrefixed([Buffer.alloc(256, 1)], 1),
    (e) => e instanceof ProtocolError && e.code === 'CODEC_BAD_NALU_LENGTH',
  );
  assert.equal(nalusToLengthPrefixed([Buffer.alloc(255, 1)], 1).length, 256);
});

// Real encoder output: x264 uses 4-byte start codes for parameter sets and 3-byte ones
// after; rebuild each stream with only 3-byte and only 4-byte codes too.
const streams = [
  'h264-baseline-320x240.h264',
  'h264-high-1920x1080.h264',
  'h264-interlaced-1920x1080.h264',
  'h265-main-1280x720.hevc',
  'h265-rext422-636x358.hevc',
];

for (const name of streams) {
  test(`annexb <-> length-prefixed round trip: ${name}`, () => {
    const original = fixture(name);
    const nalus = splitAnnexB(original);
    assert.ok(nalus.length >= 4);
    const with3 = Buffer.concat(nalus.flatMap((n) => [Buffer.from([0, 0, 1]), n]));
    const with4 = nalusToAnnexB(nalus);
    for (const stream of [original, with3, with4]) {
      assert.deepEqual(hex(splitAnnexB(stream)), hex(nalus));
      for (const size of [2, 4] as const) {
        const avcc = annexBToLengthPrefixed(stream, size);
        assert.equal(
          avcc.length,
          nalus.reduce((n, b) => n + size + b.length, 0),
        );
        assert.deepEqual(hex(splitLengthPrefixed(avcc, size)), hex(nalus));
        assert.ok(lengthPrefixedToAnnexB(avcc, size).equals(with4));
      }
    }
    assert.ok(annexBToLengthPrefixed(with3).equals(nalusToLengthPrefixed(nalus, 4)));
  });
}
