import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PTS_MODULO, msTo90k, wrap33 } from '../../../libs/mpegts/index.ts';
import {
  readPcrField,
  readTimestampField,
  writePcrField,
  writeTimestampField,
} from '../../../libs/mpegts/timestamp.ts';

test('ms -> 90 kHz, unwrapped', () => {
  assert.equal(msTo90k(0), 0);
  assert.equal(msTo90k(40), 3600);
  // Past 2^32 ms (49.7 days of the 64-bit timeline) the ticks are still exact.
  assert.equal(msTo90k(2 ** 32 + 1), (2 ** 32 + 1) * 90);
});

test('wrap33 reduces modulo 2^33, negatives included', () => {
  const rows: [number, number][] = [
    [0, 0],
    [PTS_MODULO - 1, PTS_MODULO - 1],
    [PTS_MODULO, 0],
    [PTS_MODULO + 5, 5],
    [3 * PTS_MODULO + 7, 7],
    [-1, PTS_MODULO - 1],
    [-PTS_MODULO - 2, PTS_MODULO - 2],
  ];
  for (const [input, want] of rows) assert.equal(wrap33(input), want, String(input));
});

test('PTS/DTS field bytes (13818-1 2.4.3.7), prefix and marker bits', () => {
  const b = Buffer.alloc(5);
  writeTimestampField(b, 0, 0x2, 0);
  assert.equal(b.toString('hex'), '2100010001');
  writeTimestampField(b, 0, 0x3, PTS_MODULO - 1); // all 33 bits set
  assert.equal(b.toString('hex'), '3fffffffff');
  writeTimestampField(b, 0, 0x1, 2 ** 32); // the top bit alone
  assert.equal(b.toString('hex'), '1900010001');
  writeTimestampField(b, 0, 0x2, 90_000);
  assert.equal(readTimestampField(b, 0), 90_000);
});

test('PTS round trip across the 2^33 wrap', () => {
  const b = Buffer.alloc(5);
  for (const t of [
    0,
    1,
    2 ** 30 - 1,
    2 ** 30,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    PTS_MODULO - 1,
    PTS_MODULO,
    PTS_MODULO + 3600,
    -3600,
  ]) {
    writeTimestampField(b, 0, 0x2, t);
    assert.equal(readTimestampField(b, 0), wrap33(t), String(t));
    // Markers: bit 0 of bytes 0, 2 and 4.
    assert.equal(b[0]! & b[2]! & b[4]! & 1, 1);
  }
});

test('PCR field: 33-bit base, reserved bits, 9-bit extension', () => {
  const b = Buffer.alloc(6);
  writePcrField(b, 0, 0);
  assert.equal(b.toString('hex'), '000000007e00');
  writePcrField(b, 0, PTS_MODULO - 1, 299);
  assert.equal(b.toString('hex'), 'ffffffffff2b');
  assert.deepEqual(readPcrField(b, 0), { base90k: PTS_MODULO - 1, extension: 299 });
  writePcrField(b, 0, PTS_MODULO + 90_000);
  assert.deepEqual(readPcrField(b, 0), { base90k: 90_000, extension: 0 });
});
