import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAudioTag } from '../../../libs/flv/index.ts';
import type { AudioTagInfo } from '../../../libs/flv/index.ts';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const fcc = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

type Expected = Omit<AudioTagInfo, 'data'> & { data: string };

const legacy = { enhanced: false, fourCC: null } as const;
const enhancedBits = { soundFormat: 9, soundRate: 0, soundSize: 0, soundType: 0, enhanced: true } as const;

const rows: { name: string; hex: string; expected: Expected }[] = [
  {
    name: 'AAC AudioSpecificConfig (44.1 kHz, 16-bit, stereo)',
    hex: 'af 00 1210',
    expected: {
      ...legacy,
      soundFormat: 10,
      soundRate: 3,
      soundSize: 1,
      soundType: 1,
      codec: 'aac',
      isSequenceHeader: true,
      data: '1210',
    },
  },
  {
    name: 'AAC raw frame',
    hex: 'af 01 210049',
    expected: {
      ...legacy,
      soundFormat: 10,
      soundRate: 3,
      soundSize: 1,
      soundType: 1,
      codec: 'aac',
      isSequenceHeader: false,
      data: '210049',
    },
  },
  {
    name: 'MP3, 22 kHz mono',
    hex: '2a fffb90',
    expected: {
      ...legacy,
      soundFormat: 2,
      soundRate: 2,
      soundSize: 1,
      soundType: 0,
      codec: 'mp3',
      isSequenceHeader: false,
      data: 'fffb90',
    },
  },
  {
    name: 'MP3 8 kHz',
    hex: 'e2 fffb',
    expected: {
      ...legacy,
      soundFormat: 14,
      soundRate: 0,
      soundSize: 1,
      soundType: 0,
      codec: 'mp3',
      isSequenceHeader: false,
      data: 'fffb',
    },
  },
  {
    name: 'Speex is other',
    hex: 'b6 01',
    expected: {
      ...legacy,
      soundFormat: 11,
      soundRate: 1,
      soundSize: 1,
      soundType: 0,
      codec: 'other',
      isSequenceHeader: false,
      data: '01',
    },
  },
  {
    name: 'enhanced Opus SequenceStart',
    hex: `90 ${fcc('Opus')} ${fcc('OpusHead')}`,
    expected: {
      ...enhancedBits,
      fourCC: 'Opus',
      codec: 'opus',
      isSequenceHeader: true,
      data: fcc('OpusHead'),
    },
  },
  {
    name: 'enhanced Opus CodedFrames',
    hex: `91 ${fcc('Opus')} fc`,
    expected: { ...enhancedBits, fourCC: 'Opus', codec: 'opus', isSequenceHeader: false, data: 'fc' },
  },
  {
    name: 'enhanced mp4a SequenceStart',
    hex: `90 ${fcc('mp4a')} 1190`,
    expected: { ...enhancedBits, fourCC: 'mp4a', codec: 'aac', isSequenceHeader: true, data: '1190' },
  },
  {
    name: 'enhanced .mp3 CodedFrames',
    hex: `91 ${fcc('.mp3')} fffb`,
    expected: { ...enhancedBits, fourCC: '.mp3', codec: 'mp3', isSequenceHeader: false, data: 'fffb' },
  },
  {
    name: 'enhanced fLaC is other',
    hex: `91 ${fcc('fLaC')} fff8`,
    expected: { ...enhancedBits, fourCC: 'fLaC', codec: 'other', isSequenceHeader: false, data: 'fff8' },
  },
  {
    name: 'enhanced Multitrack OneTrack Opus SequenceStart',
    hex: `95 00 ${fcc('Opus')} 00 aa`,
    expected: { ...enhancedBits, fourCC: 'Opus', codec: 'opus', isSequenceHeader: true, data: '00aa' },
  },
  {
    name: 'enhanced Multitrack ManyTracksManyCodecs',
    hex: `95 21 ${fcc('mp4a')} 00 000001 aa`,
    expected: {
      ...enhancedBits,
      fourCC: null,
      codec: 'other',
      isSequenceHeader: false,
      data: `${fcc('mp4a')}00000001aa`,
    },
  },
  {
    name: 'enhanced ModEx then CodedFrames',
    hex: `97 02 0003e8 01 ${fcc('Opus')} fc`,
    expected: { ...enhancedBits, fourCC: 'Opus', codec: 'opus', isSequenceHeader: false, data: 'fc' },
  },
];

for (const row of rows) {
  test(`flv audio: ${row.name}`, () => {
    const info = parseAudioTag(h(row.hex));
    assert.deepEqual({ ...info, data: info.data.toString('hex') }, row.expected);
  });
}

for (const t of [
  { name: 'empty body', hex: '' },
  { name: 'AAC without packet type', hex: 'af' },
  { name: 'enhanced short FourCC', hex: '90 4f70' },
  { name: 'enhanced ModEx cut short', hex: '97 04 00' },
]) {
  test(`flv audio: rejects ${t.name}`, () => {
    assert.throws(() => parseAudioTag(h(t.hex)), { name: 'ProtocolError', code: 'BYTES_TRUNCATED' });
  });
}
