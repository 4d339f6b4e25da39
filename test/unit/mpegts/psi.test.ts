import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { buildPat, buildPmt, parsePat, parsePmt } from '../../../libs/mpegts/index.ts';
import type { Pmt } from '../../../libs/mpegts/index.ts';

const isCode = (code: string) => (e: unknown) => e instanceof ProtocolError && e.code === code;

test('PAT bytes equal the PAT ffmpeg writes for the same program', () => {
  const pat = buildPat({
    transportStreamId: 1,
    version: 0,
    programs: [{ programNumber: 1, pmtPid: 0x1000 }],
  });
  assert.equal(pat.toString('hex'), '00b00d0001c100000001f0002ab104b2');
  assert.deepEqual(parsePat(pat), {
    transportStreamId: 1,
    version: 0,
    programs: [{ programNumber: 1, pmtPid: 0x1000 }],
  });
});

test('PMT round trip with versions and descriptors', () => {
  for (const version of [0, 1, 17, 31]) {
    const pmt: Pmt = {
      programNumber: 1,
      version,
      pcrPid: 0x100,
      streams: [
        { streamType: 0x24, pid: 0x100, descriptors: Buffer.alloc(0) },
        { streamType: 0x0f, pid: 0x101, descriptors: Buffer.from('0a04656e6700', 'hex') }, // ISO 639 'eng'
      ],
    };
    const section = buildPmt(pmt);
    assert.equal(section[0], 0x02);
    assert.equal((section[5]! >> 1) & 0x1f, version);
    assert.deepEqual(parsePmt(section), pmt);
  }
});

test('a flipped bit anywhere in a section is a CRC or structure error', () => {
  const section = buildPmt({
    programNumber: 1,
    version: 0,
    pcrPid: 0x100,
    streams: [{ streamType: 0x1b, pid: 0x100, descriptors: Buffer.alloc(0) }],
  });
  for (let bit = 0; bit < section.length * 8; bit++) {
    const b = Buffer.from(section);
    b[bit >> 3]! ^= 0x80 >> (bit & 7);
    assert.throws(
      () => parsePmt(b),
      (e: unknown) => e instanceof ProtocolError && (e.code === 'TS_BAD_CRC' || e.code === 'TS_BAD_SECTION'),
      `bit ${bit}`,
    );
  }
  const crc = Buffer.from(section);
  crc[crc.length - 1]! ^= 1;
  assert.throws(() => parsePmt(crc), isCode('TS_BAD_CRC'));
});

test('structure errors', () => {
  const pat = buildPat({ transportStreamId: 1, version: 0, programs: [] });
  assert.throws(() => parsePmt(pat), isCode('TS_BAD_SECTION')); // table_id 0 where 2 is expected
  assert.throws(() => parsePat(pat.subarray(0, 8)), isCode('TS_BAD_SECTION'));
  assert.throws(() => parsePat(Buffer.concat([pat, Buffer.from([0xff])])), isCode('TS_BAD_SECTION'));
  assert.throws(
    () =>
      buildPmt({
        programNumber: 1,
        version: 0,
        pcrPid: 0,
        streams: [{ streamType: 1, pid: 1, descriptors: Buffer.alloc(1020) }],
      }),
    isCode('TS_BAD_SECTION'),
  );
});
