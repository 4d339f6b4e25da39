import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVideoTag } from '../../../libs/flv/index.ts';
import type { VideoTagInfo } from '../../../libs/flv/index.ts';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const fcc = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

type Expected = Omit<VideoTagInfo, 'data'> & { data: string };

const legacy = { codecId: 7, fourCC: null, enhanced: false } as const;
const enhanced = { codecId: 0, enhanced: true } as const;

const rows: { name: string; hex: string; expected: Expected }[] = [
  // Legacy (FLV spec v10 §E.4.3.1): frameType << 4 | codecId, AVCPacketType, SI24 CTS.
  {
    name: 'legacy AVC sequence header',
    hex: '17 00 000000 01640028',
    expected: {
      ...legacy,
      frameType: 1,
      isKeyFrame: true,
      codec: 'avc',
      packetType: 'sequenceStart',
      isSequenceHeader: true,
      compositionTimeMs: 0,
      data: '01640028',
    },
  },
  {
    name: 'legacy AVC key frame NALUs',
    hex: '17 01 000050 00000002 6588',
    expected: {
      ...legacy,
      frameType: 1,
      isKeyFrame: true,
      codec: 'avc',
      packetType: 'codedFrames',
      isSequenceHeader: false,
      compositionTimeMs: 80,
      data: '000000026588',
    },
  },
  {
    name: 'legacy AVC inter frame with negative CTS',
    hex: '27 01 ffffd8 00000001 41',
    expected: {
      ...legacy,
      frameType: 2,
      isKeyFrame: false,
      codec: 'avc',
      packetType: 'codedFrames',
      isSequenceHeader: false,
      compositionTimeMs: -40,
      data: '0000000141',
    },
  },
  {
    name: 'legacy AVC end of sequence',
    hex: '17 02 000000',
    expected: {
      ...legacy,
      frameType: 1,
      isKeyFrame: true,
      codec: 'avc',
      packetType: 'sequenceEnd',
      isSequenceHeader: false,
      compositionTimeMs: 0,
      data: '',
    },
  },
  {
    name: 'legacy HEVC (codec id 12) sequence header',
    hex: '1c 00 000000 01',
    expected: {
      ...legacy,
      codecId: 12,
      frameType: 1,
      isKeyFrame: true,
      codec: 'hevc',
      packetType: 'sequenceStart',
      isSequenceHeader: true,
      compositionTimeMs: 0,
      data: '01',
    },
  },
  {
    name: 'legacy HEVC generated key frame',
    hex: '4c 01 000028 00000001 26',
    expected: {
      ...legacy,
      codecId: 12,
      frameType: 4,
      isKeyFrame: true,
      codec: 'hevc',
      packetType: 'codedFrames',
      isSequenceHeader: false,
      compositionTimeMs: 40,
      data: '0000000126',
    },
  },
  {
    name: 'legacy command frame has no AVC header',
    hex: '57 01',
    expected: {
      ...legacy,
      frameType: 5,
      isKeyFrame: false,
      codec: 'avc',
      packetType: 'other',
      isSequenceHeader: false,
      compositionTimeMs: 0,
      data: '01',
    },
  },
  {
    name: 'legacy Sorenson H.263',
    hex: '22 aabb',
    expected: {
      ...legacy,
      codecId: 2,
      frameType: 2,
      isKeyFrame: false,
      codec: 'other',
      packetType: 'other',
      isSequenceHeader: false,
      compositionTimeMs: 0,
      data: 'aabb',
    },
  },
  // Enhanced RTMP: 1 | frameType(3) | packetType(4), then FourCC.
  {
    name: 'enhanced SequenceStart hvc1',
    hex: `90 ${fcc('hvc1')} 01 02`,
    expected: {
      ...enhanced,
      fourCC: 'hvc1',
      frameType: 1,
      isKeyFrame: true,
      codec: 'hevc',
      packetType: 'sequenceStart',
      isSequenceHeader: true,
      compositionTimeMs: 0,
      data: '0102',
    },
  },
  {
    name: 'enhanced CodedFrames hvc1 carries a CTS',
    hex: `a1 ${fcc('hvc1')} 000064 00000001 02`,
    expected: {
      ...enhanced,
      fourCC: 'hvc1',
      frameType: 2,
      isKeyFrame: false,
      codec: 'hevc',
      packetType: 'codedFrames',
      isSequenceHeader: false,
      compositionTimeMs: 100,
      data: '0000000102',
    },
  },
  {
    name: 'enhanced CodedFrames avc1 carries a CTS',
    hex: `91 ${fcc('avc1')} fffff6 00000001 65`,
    expected: {
      ...enhanced,
      fourCC: 'avc1',
      frameType: 1,
      isKeyFrame: true,
      codec: 'avc',
      packetType: 'codedFrames',
      isSequenceHeader: false,
      compositionTimeMs: -10,
      data: '0000000165',
    },
  },
  {
    name: 'enhanced CodedFrames av01 has no CTS',
    hex: `a1 ${fcc('av01')} 0a0b0c`,
    expected: {
      ...enhanced,
      fourCC: 'av01',
      frameType: 2,
      isKeyFrame: false,
      codec: 'av1',
      packetType: 'codedFrames',
      isSequenceHeader: false,
      compositionTimeMs: 0,
      data: '0a0b0c',
    },
  },
  {
    name: 'enhanced SequenceEnd vp09',
    hex: `92 ${fcc('vp09')}`,
    expected: {
      ...enhanced,
      fourCC: 'vp09',
      frameType: 1,
      isKeyFrame: true,
      codec: 'vp9',
      packetType: 'sequenceEnd',
      isSequenceHeader: false,
      compositionTimeMs: 0,
      data: '',
    },
  },
  {
    name: 'enhanced CodedFramesX hvc1 (implicit CTS 0)',
    hex: `93 ${fcc('hvc1')} 00000001 26`,
    expected: {
      ...enhanced,
      fourCC: 'hvc1',
      frameType: 1,
      isKeyFrame: true,
      codec: 'hevc',
      packetType: 'codedFrames',
      isSequenceHeader: false,
      compositionTimeMs: 0,
      data: '0000000126',
    },
  },
  {
    name: 'enhanced Metadata with command frame type still has a FourCC',
    hex: `d4 ${fcc('hvc1')} 020009636f6c6f72496e666f`,
    expected: {
      ...enhanced,
      fourCC: 'hvc1',
      frameType: 5,
      isKeyFrame: false,
      codec: 'hevc',
      packetType: 'metadata',
      isSequenceHeader: false,
      compositionTimeMs: 0,
      data: '020009636f6c6f72496e666f',
    },
  },
  {
    name: 'enhanced MPEG2TSSequenceStart av01',
    hex: `95 ${fcc('av01')} 80`,
    expected: {
      ...enhanced,
      fourCC: 'av01',
      frameType: 1,
      isKeyFrame: true,
      codec: 'av1',
      packetType: 'mpeg2tsSequenceStart',
      isSequenceHeader: false,
      compositionTimeMs: 0,
      data: '80',
    },
  },
  {
    name: 'enhanced Multitrack OneTrack SequenceStart',
    hex: `96 00 ${fcc('av01')} 00 81`,
    expected: {
      ...enhanced,
      fourCC: 'av01',
      frameType: 1,
      isKeyFrame: true,
      codec: 'av1',
      packetType: 'multitrack',
      isSequenceHeader: true,
      compositionTimeMs: 0,
      data: '0081',
    },
  },
  {
    name: 'enhanced Multitrack ManyTracksManyCodecs has no shared FourCC',
    hex: `a6 21 ${fcc('avc1')} 00 000004 00000000`,
    expected: {
      ...enhanced,
      fourCC: null,
      frameType: 2,
      isKeyFrame: false,
      codec: 'other',
      packetType: 'multitrack',
      isSequenceHeader: false,
      compositionTimeMs: 0,
      data: `${fcc('avc1')}0000000400000000`,
    },
  },
  {
    name: 'enhanced ModEx (TimestampOffsetNano) before CodedFrames',
    hex: `97 02 0f4240 01 ${fcc('avc1')} 000000 00000001 65`,
    expected: {
      ...enhanced,
      fourCC: 'avc1',
      frameType: 1,
      isKeyFrame: true,
      codec: 'avc',
      packetType: 'codedFrames',
      isSequenceHeader: false,
      compositionTimeMs: 0,
      data: '0000000165',
    },
  },
  {
    name: 'enhanced ModEx with a 16-bit size, chained twice',
    hex: `97 ff 0100 ${'00'.repeat(257)} 07 00 aa 00 ${fcc('hvc1')} 01`,
    expected: {
      ...enhanced,
      fourCC: 'hvc1',
      frameType: 1,
      isKeyFrame: true,
      codec: 'hevc',
      packetType: 'sequenceStart',
      isSequenceHeader: true,
      compositionTimeMs: 0,
      data: '01',
    },
  },
  {
    name: 'enhanced command frame: one command byte, no FourCC',
    hex: 'd0 01',
    expected: {
      ...enhanced,
      fourCC: null,
      frameType: 5,
      isKeyFrame: false,
      codec: 'other',
      packetType: 'other',
      isSequenceHeader: false,
      compositionTimeMs: 0,
      data: '01',
    },
  },
  {
    name: 'enhanced unknown packet type and FourCC',
    hex: `98 ${fcc('vp08')} 11`,
    expected: {
      ...enhanced,
      fourCC: 'vp08',
      frameType: 1,
      isKeyFrame: true,
      codec: 'other',
      packetType: 'other',
      isSequenceHeader: false,
      compositionTimeMs: 0,
      data: '11',
    },
  },
];

for (const row of rows) {
  test(`flv video: ${row.name}`, () => {
    const body = h(row.hex);
    const info = parseVideoTag(body);
    assert.deepEqual({ ...info, data: info.data.toString('hex') }, row.expected);
    // data is a view into the body, not a copy.
    if (info.data.length > 0) assert.equal(info.data.buffer, body.buffer);
  });
}

const truncated = [
  { name: 'empty body', hex: '' },
  { name: 'legacy AVC without packet type', hex: '17' },
  { name: 'legacy AVC with a short CTS', hex: '17 01 00' },
  { name: 'enhanced short FourCC', hex: '90 687663' },
  { name: 'enhanced CodedFrames hvc1 without CTS', hex: `91 ${fcc('hvc1')} 00` },
  { name: 'enhanced ModEx data cut short', hex: '97 05 00' },
  { name: 'enhanced ModEx without the packet type byte', hex: '97 00 00' },
  { name: 'enhanced command frame without its byte', hex: 'd0' },
  { name: 'enhanced Multitrack without its type byte', hex: '96' },
];

for (const t of truncated) {
  test(`flv video: rejects ${t.name}`, () => {
    assert.throws(() => parseVideoTag(h(t.hex)), { name: 'ProtocolError', code: 'BYTES_TRUNCATED' });
  });
}
