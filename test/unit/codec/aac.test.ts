import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BitWriter } from '../../../libs/bytes/bit-writer.ts';
import {
  AAC_SAMPLE_RATES,
  buildAdtsHeader,
  buildAudioSpecificConfig,
  parseAdtsFrames,
  parseAudioSpecificConfig,
} from '../../../libs/codec/index.ts';
import type { AudioSpecificConfig } from '../../../libs/codec/index.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { fixture, probe } from './fixtures.ts';

const isCode = (code: string) => (e: unknown) => e instanceof ProtocolError && e.code === code;

/** Writes ASC fields MSB-first: [bits, value] pairs. */
const bits = (...fields: [number, number][]): Buffer => {
  const w = new BitWriter();
  for (const [n, v] of fields) w.bits(n, v);
  return w.toBuffer();
};

// Native ffmpeg `aac` encoder output (make.sh): the ASC from the mp4 muxer and the ADTS stream.
const real: [string, AudioSpecificConfig, string][] = [
  [
    'aac-mono-44100',
    { objectType: 2, samplingFrequencyIndex: 4, sampleRate: 44100, channelConfiguration: 1 },
    '1208',
  ],
  [
    'aac-stereo-48000',
    { objectType: 2, samplingFrequencyIndex: 3, sampleRate: 48000, channelConfiguration: 2 },
    '1190',
  ],
  [
    'aac-stereo-22050',
    { objectType: 2, samplingFrequencyIndex: 7, sampleRate: 22050, channelConfiguration: 2 },
    '1390',
  ],
];

for (const [name, asc, hex] of real) {
  test(`AudioSpecificConfig: ${name} parses, matches ffprobe and rebuilds byte-identical`, () => {
    const buf = fixture(`${name}.asc`);
    assert.equal(buf.toString('hex'), hex);
    assert.deepEqual(parseAudioSpecificConfig(buf), asc);
    assert.equal(buildAudioSpecificConfig(asc).toString('hex'), hex);
    const p = probe(`${name}.aac`);
    assert.equal(p.profile, 'LC');
    assert.equal(String(asc.sampleRate), p.sample_rate);
    assert.equal(asc.channelConfiguration, p.channels);
  });

  test(`ADTS: ${name} splits into frames that agree with the ASC`, () => {
    const stream = fixture(`${name}.aac`);
    const frames = parseAdtsFrames(stream);
    assert.ok(frames.length >= 3);
    assert.equal(
      frames.reduce((n, f) => n + f.frameLength, 0),
      stream.length,
    );
    let pos = 0;
    for (const f of frames) {
      assert.deepEqual(f.asc, asc);
      assert.equal(f.headerLength, 7);
      assert.equal(f.payload.length, f.frameLength - 7);
      assert.equal(f.payload.buffer, stream.buffer, 'payload is a view');
      // ffmpeg writes 0x7FF buffer fullness and no CRC, as buildAdtsHeader does.
      assert.equal(
        buildAdtsHeader(f.asc, f.payload.length).toString('hex'),
        stream.subarray(pos, pos + 7).toString('hex'),
      );
      pos += f.frameLength;
    }
  });
}

const ascCases: [string, Buffer, AudioSpecificConfig][] = [
  [
    'HE-AAC (SBR, type 5): core LC at 22050, output 44100',
    Buffer.from('2b920800', 'hex'),
    {
      objectType: 2,
      samplingFrequencyIndex: 7,
      sampleRate: 22050,
      channelConfiguration: 2,
      extensionObjectType: 5,
      extensionSampleRate: 44100,
    },
  ],
  [
    'HE-AACv2 (PS, type 29): mono core at 24000, output 48000',
    bits([5, 29], [4, 6], [4, 1], [4, 3], [5, 2], [3, 0]),
    {
      objectType: 2,
      samplingFrequencyIndex: 6,
      sampleRate: 24000,
      channelConfiguration: 1,
      extensionObjectType: 29,
      extensionSampleRate: 48000,
    },
  ],
  [
    'SBR with explicit extension rate',
    bits([5, 5], [4, 8], [4, 2], [4, 15], [24, 32000], [5, 2]),
    {
      objectType: 2,
      samplingFrequencyIndex: 8,
      sampleRate: 16000,
      channelConfiguration: 2,
      extensionObjectType: 5,
      extensionSampleRate: 32000,
    },
  ],
  [
    'escaped object type 42 (USAC)',
    bits([5, 31], [6, 10], [4, 3], [4, 2]),
    { objectType: 42, samplingFrequencyIndex: 3, sampleRate: 48000, channelConfiguration: 2 },
  ],
  [
    'explicit 24-bit sampling frequency',
    bits([5, 2], [4, 15], [24, 44056], [4, 6], [3, 0]),
    { objectType: 2, samplingFrequencyIndex: 15, sampleRate: 44056, channelConfiguration: 6 },
  ],
  [
    'channel configuration 0 (program config element)',
    bits([5, 1], [4, 11], [4, 0], [3, 0]),
    { objectType: 1, samplingFrequencyIndex: 11, sampleRate: 8000, channelConfiguration: 0 },
  ],
];

for (const [name, buf, want] of ascCases) {
  test(`parseAudioSpecificConfig: ${name}`, () => {
    assert.deepEqual(parseAudioSpecificConfig(buf), want);
  });
}

const buildCases: [string, { objectType: number; sampleRate: number; channelConfiguration: number }][] = [
  ['LC 96000 8 channels (config 7)', { objectType: 2, sampleRate: 96000, channelConfiguration: 7 }],
  ['LC 7350 mono', { objectType: 2, sampleRate: 7350, channelConfiguration: 1 }],
  [
    'rate outside the table is written explicitly',
    { objectType: 2, sampleRate: 44056, channelConfiguration: 2 },
  ],
  ['escaped object type 39', { objectType: 39, sampleRate: 48000, channelConfiguration: 2 }],
  ['Main profile', { objectType: 1, sampleRate: 32000, channelConfiguration: 2 }],
];

for (const [name, c] of buildCases) {
  test(`buildAudioSpecificConfig -> parse: ${name}`, () => {
    const asc = parseAudioSpecificConfig(buildAudioSpecificConfig(c));
    assert.equal(asc.objectType, c.objectType);
    assert.equal(asc.sampleRate, c.sampleRate);
    assert.equal(asc.channelConfiguration, c.channelConfiguration);
    assert.equal(
      asc.samplingFrequencyIndex,
      AAC_SAMPLE_RATES.includes(c.sampleRate) ? AAC_SAMPLE_RATES.indexOf(c.sampleRate) : 15,
    );
  });
}

const ascErrors: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from('12', 'hex')],
  ['object type 0', bits([5, 0], [4, 3], [4, 2], [3, 0])],
  ['reserved sampling index 13', bits([5, 2], [4, 13], [4, 2], [3, 0])],
  ['explicit frequency 0', bits([5, 2], [4, 15], [24, 0], [4, 2])],
  ['truncated explicit frequency', bits([5, 2], [4, 15], [8, 0xff])],
  ['truncated escape', bits([5, 31], [3, 0])],
  ['SBR without the core type', bits([5, 5], [4, 7], [4, 2], [3, 0])],
];

for (const [name, buf] of ascErrors) {
  test(`parseAudioSpecificConfig: ${name} -> CODEC_BAD_ASC`, () => {
    assert.throws(() => parseAudioSpecificConfig(buf), isCode('CODEC_BAD_ASC'));
  });
}

test('buildAudioSpecificConfig: rejects what it cannot write', () => {
  for (const c of [
    { objectType: 0, sampleRate: 48000, channelConfiguration: 2 },
    { objectType: 5, sampleRate: 48000, channelConfiguration: 2 },
    { objectType: 96, sampleRate: 48000, channelConfiguration: 2 },
    { objectType: 2, sampleRate: 0, channelConfiguration: 2 },
    { objectType: 2, sampleRate: 48000, channelConfiguration: 16 },
  ]) {
    assert.throws(() => buildAudioSpecificConfig(c), isCode('CODEC_BAD_ASC'), JSON.stringify(c));
  }
});

test('ADTS: header with CRC (protection_absent 0) is 9 bytes', () => {
  const payload = Buffer.from('21100503', 'hex');
  const h = buildAdtsHeader(
    { objectType: 2, samplingFrequencyIndex: 4, sampleRate: 44100, channelConfiguration: 2 },
    payload.length + 2,
  );
  h[1] = h[1]! & 0xfe; // protection_absent = 0: a 16-bit CRC follows
  const [f] = parseAdtsFrames(Buffer.concat([h, Buffer.from('abcd', 'hex'), payload]));
  assert.equal(f!.headerLength, 9);
  assert.equal(f!.frameLength, 13);
  assert.equal(f!.payload.toString('hex'), '21100503');
});

test('ADTS: buildAdtsHeader fields', () => {
  const asc = { objectType: 2, samplingFrequencyIndex: 3, sampleRate: 48000, channelConfiguration: 6 };
  const h = buildAdtsHeader(asc, 8184);
  assert.equal(h.length, 7);
  const [f] = parseAdtsFrames(Buffer.concat([h, Buffer.alloc(8184)]));
  assert.deepEqual(f!.asc, asc);
  assert.equal(f!.frameLength, 8191);
  assert.equal(parseAdtsFrames(Buffer.alloc(0)).length, 0);
});

test('ADTS: buildAdtsHeader rejects what ADTS cannot carry', () => {
  const lc = { objectType: 2, samplingFrequencyIndex: 3, sampleRate: 48000, channelConfiguration: 2 };
  assert.throws(() => buildAdtsHeader(lc, 8185), isCode('CODEC_BAD_ADTS'));
  assert.throws(() => buildAdtsHeader(lc, -1), isCode('CODEC_BAD_ADTS'));
  assert.throws(() => buildAdtsHeader({ ...lc, objectType: 5 }, 10), isCode('CODEC_BAD_ADTS'));
  assert.throws(
    () => buildAdtsHeader({ ...lc, samplingFrequencyIndex: 15, sampleRate: 44056 }, 10),
    isCode('CODEC_BAD_ADTS'),
  );
  assert.throws(() => buildAdtsHeader({ ...lc, channelConfiguration: 8 }, 10), isCode('CODEC_BAD_ADTS'));
});

const lc = buildAdtsHeader(
  { objectType: 2, samplingFrequencyIndex: 4, sampleRate: 44100, channelConfiguration: 2 },
  3,
);
const withLength = (len: number): Buffer => {
  const h = Buffer.from(lc);
  h[3] = (h[3]! & 0xfc) | (len >>> 11);
  h[4] = (len >>> 3) & 0xff;
  h[5] = (h[5]! & 0x1f) | ((len & 7) << 5);
  return h;
};

const adtsErrors: [string, Buffer][] = [
  ['bad sync word', Buffer.concat([Buffer.from([0xff, 0xe1]), lc.subarray(2), Buffer.alloc(3)])],
  ['layer not 0', Buffer.concat([Buffer.from([0xff, 0xf3]), lc.subarray(2), Buffer.alloc(3)])],
  ['truncated header', lc.subarray(0, 6)],
  ['frame length shorter than the header', withLength(6)],
  ['frame length overruns', Buffer.concat([lc, Buffer.alloc(2)])],
  ['garbage after a good frame', Buffer.concat([lc, Buffer.alloc(3), Buffer.from('00112233445566', 'hex')])],
  [
    'reserved sampling index',
    Buffer.concat([Buffer.from([0xff, 0xf1, 0x74]), lc.subarray(3), Buffer.alloc(3)]),
  ],
];

for (const [name, buf] of adtsErrors) {
  test(`parseAdtsFrames: ${name} -> CODEC_BAD_ADTS`, () => {
    assert.throws(() => parseAdtsFrames(buf), isCode('CODEC_BAD_ADTS'));
  });
}

test('parseAdtsFrames: a stream cut anywhere inside a frame -> CODEC_BAD_ADTS', () => {
  const stream = fixture('aac-stereo-48000.aac');
  const ends = new Set<number>([0]);
  let pos = 0;
  for (const f of parseAdtsFrames(stream)) ends.add((pos += f.frameLength));
  for (let len = 0; len < stream.length; len++) {
    if (ends.has(len)) assert.doesNotThrow(() => parseAdtsFrames(stream.subarray(0, len)));
    else
      assert.throws(
        () => parseAdtsFrames(stream.subarray(0, len)),
        isCode('CODEC_BAD_ADTS'),
        `cut at ${len}`,
      );
  }
});
