import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32Mpeg2 } from '../../../libs/mpegts/index.ts';

test('CRC-32/MPEG-2 check values', () => {
  // The catalogue check value of CRC-32/MPEG-2 (the CRC of the ASCII digits 1..9).
  assert.equal(crc32Mpeg2(Buffer.from('123456789')), 0x0376e6e7);
  // No input: the initial value, with no final XOR.
  assert.equal(crc32Mpeg2(Buffer.alloc(0)), 0xffffffff);
  // One zero byte: table entry 0xFF of the MSB-first table, x^32 mod the polynomial shifted in.
  assert.equal(crc32Mpeg2(Buffer.from([0x00])), 0x4e08bfb4);
  // Four 0xFF bytes cancel the initial value: the register is all zeros.
  assert.equal(crc32Mpeg2(Buffer.alloc(4, 0xff)), 0);
});

test('a section followed by its CRC has a CRC of 0, and any flipped bit breaks it', () => {
  // The PAT ffmpeg's mpegts muxer writes by default (transport_stream_id 1, program 1 on PID 0x1000).
  const pat = Buffer.from('00b00d0001c100000001f0002ab104b2', 'hex');
  assert.equal(crc32Mpeg2(pat, 0, pat.length - 4), 0x2ab104b2);
  assert.equal(crc32Mpeg2(pat), 0);
  for (let bit = 0; bit < pat.length * 8; bit++) {
    const b = Buffer.from(pat);
    b[bit >> 3]! ^= 0x80 >> (bit & 7);
    assert.notEqual(crc32Mpeg2(b), 0, `bit ${bit}`);
  }
});

test('start/end select a range', () => {
  const buf = Buffer.from('xx123456789yy');
  assert.equal(crc32Mpeg2(buf, 2, 11), 0x0376e6e7);
});
