import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { parseRtpPacket } from '../../../libs/rtp/index.ts';

const hdr = (b0: number, extra: number[] = [], payload: number[] = []): Buffer =>
  Buffer.from([b0, 0xe0, 0x12, 0x34, 0, 0, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef, ...extra, ...payload]);

test('parses the fixed header and gives the payload as a view', () => {
  const b = hdr(0x80, [], [1, 2, 3]);
  const p = parseRtpPacket(b);
  assert.deepEqual(
    { ...p, payload: [...p.payload] },
    {
      marker: true,
      payloadType: 0x60,
      sequenceNumber: 0x1234,
      timestamp: 256,
      ssrc: 0xdeadbeef,
      payload: [1, 2, 3],
    },
  );
  assert.equal(p.payload.buffer, b.buffer);
});

const cases: { name: string; buf: Buffer; payload?: number[]; code?: string }[] = [
  { name: 'two CSRCs skipped', buf: hdr(0x82, [0, 0, 0, 1, 0, 0, 0, 2], [9]), payload: [9] },
  { name: 'extension skipped', buf: hdr(0x90, [0xbe, 0xde, 0, 1, 1, 2, 3, 4], [7, 8]), payload: [7, 8] },
  { name: 'padding removed', buf: hdr(0xa0, [], [5, 6, 0, 0, 3]), payload: [5, 6] },
  { name: 'padding that is the whole payload', buf: hdr(0xa0, [], [0, 2]), payload: [] },
  { name: 'CSRC + extension + padding', buf: hdr(0xb1, [0, 0, 0, 1, 0x10, 0, 0, 0], [4, 1]), payload: [4] },
  { name: 'short', buf: Buffer.alloc(11, 0x80), code: 'RTP_TRUNCATED' },
  { name: 'version 1', buf: hdr(0x40), code: 'RTP_BAD_VERSION' },
  { name: 'version 0 (STUN-like)', buf: hdr(0x00), code: 'RTP_BAD_VERSION' },
  { name: 'CSRCs past the end', buf: hdr(0x83, [0, 0, 0, 1]), code: 'RTP_TRUNCATED' },
  { name: 'extension header truncated', buf: hdr(0x90, [0xbe, 0xde]), code: 'RTP_TRUNCATED' },
  {
    name: 'extension longer than packet',
    buf: hdr(0x90, [0xbe, 0xde, 0, 2, 1, 2, 3, 4]),
    code: 'RTP_TRUNCATED',
  },
  { name: 'padding count 0', buf: hdr(0xa0, [], [1, 0]), code: 'RTP_BAD_PADDING' },
  { name: 'padding past the payload', buf: hdr(0xa0, [], [1, 3]), code: 'RTP_BAD_PADDING' },
  { name: 'padding with no payload', buf: hdr(0xa0), code: 'RTP_BAD_PADDING' },
];

for (const c of cases) {
  test(`parseRtpPacket: ${c.name}`, () => {
    if (c.code) {
      assert.throws(
        () => parseRtpPacket(c.buf),
        (e) => e instanceof ProtocolError && e.code === c.code,
      );
    } else {
      assert.deepEqual([...parseRtpPacket(c.buf).payload], c.payload);
    }
  });
}

test('random garbage raises only ProtocolError', () => {
  let x = 7;
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.alloc(i % 40);
    for (let k = 0; k < b.length; k++) b[k] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    try {
      parseRtpPacket(b);
    } catch (e) {
      assert.ok(e instanceof ProtocolError, String(e));
    }
  }
});
