import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { PTS_MODULO, parsePesHeader, pesHeaderSize, writePesHeader } from '../../../libs/mpegts/index.ts';
import type { PesHeaderSpec } from '../../../libs/mpegts/index.ts';

const write = (spec: PesHeaderSpec): Buffer => {
  const b = Buffer.alloc(pesHeaderSize(spec));
  assert.equal(writePesHeader(b, 0, spec), b.length);
  return b;
};

test('video PES header with PTS and DTS, unbounded length', () => {
  // PTS 7200 = 56 << 7 | 32: bytes 0x38 and 32 << 1 | 1; DTS 3600 = 28 << 7 | 16.
  const b = write({ streamId: 0xe0, pts90k: 7200, dts90k: 3600, payloadLength: 100_000, bounded: false });
  assert.equal(b.toString('hex'), '000001e00000' + '84c00a' + '3100013841' + '1100011c21');
  assert.deepEqual(parsePesHeader(b), {
    streamId: 0xe0,
    packetLength: 0,
    pts90k: 7200,
    dts90k: 3600,
    headerSize: 19,
  });
});

test('audio PES header: PTS only, real PES_packet_length', () => {
  const b = write({ streamId: 0xc0, pts90k: 1234, dts90k: null, payloadLength: 300, bounded: true });
  assert.equal(b.length, 14);
  assert.equal(b.readUInt16BE(4), 8 + 300);
  assert.deepEqual(parsePesHeader(b), {
    streamId: 0xc0,
    packetLength: 308,
    pts90k: 1234,
    dts90k: 1234,
    headerSize: 14,
  });
});

test('DTS equal to PTS is not written', () => {
  const b = write({ streamId: 0xe0, pts90k: 500, dts90k: 500, payloadLength: 10, bounded: false });
  assert.equal(b.length, 14);
  assert.equal(b[7], 0x80);
});

test('a bounded length past 65535 is written as 0', () => {
  const b = write({ streamId: 0xc0, pts90k: 0, dts90k: null, payloadLength: 65_528, bounded: true });
  assert.equal(b.readUInt16BE(4), 0);
  const c = write({ streamId: 0xc0, pts90k: 0, dts90k: null, payloadLength: 65_527, bounded: true });
  assert.equal(c.readUInt16BE(4), 65_535);
});

test('timestamps past 2^33 wrap in the header', () => {
  const b = write({
    streamId: 0xe0,
    pts90k: PTS_MODULO + 10,
    dts90k: PTS_MODULO - 10,
    payloadLength: 0,
    bounded: false,
  });
  const h = parsePesHeader(b);
  assert.equal(h.pts90k, 10);
  assert.equal(h.dts90k, PTS_MODULO - 10);
});

test('bad headers raise TS_BAD_PES_HEADER', () => {
  const isBad = (e: unknown): boolean => e instanceof ProtocolError && e.code === 'TS_BAD_PES_HEADER';
  const good = write({ streamId: 0xe0, pts90k: 1, dts90k: 0, payloadLength: 0, bounded: false });
  assert.throws(() => parsePesHeader(good.subarray(0, 5)), isBad);
  assert.throws(() => parsePesHeader(Buffer.concat([Buffer.from([0, 0, 2]), good.subarray(3)])), isBad);
  assert.throws(() => parsePesHeader(good.subarray(0, 12)), isBad); // header_data_length overruns
  const flags01 = Buffer.from(good);
  flags01[7] = 0x40;
  assert.throws(() => parsePesHeader(flags01), isBad);
  const short = Buffer.from(good);
  short[8] = 5; // PTS and DTS announced in 5 bytes
  assert.throws(() => parsePesHeader(short), isBad);
  const markers = Buffer.from(good);
  markers[6] = 0x04;
  assert.throws(() => parsePesHeader(markers), isBad);
});

test('stream ids without the optional header (padding, private_stream_2)', () => {
  const b = Buffer.from('000001be0004ffffffff', 'hex');
  assert.deepEqual(parsePesHeader(b), {
    streamId: 0xbe,
    packetLength: 4,
    pts90k: null,
    dts90k: null,
    headerSize: 6,
  });
});
