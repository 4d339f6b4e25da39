import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FlvReader, TagType, encodeOnMetaData, parseScriptData } from '../../../libs/flv/index.ts';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const hexOf = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
const key = (s: string): string => Buffer.byteLength(s).toString(16).padStart(4, '0') + hexOf(s);
const str = (s: string): string => '02' + key(s);

// 'onMetaData', ECMA array { width: 64, stereo: true, encoder: 'x' }
const ON_METADATA =
  str('onMetaData') +
  '08 00000003' +
  key('width') +
  '00 4050000000000000' +
  key('stereo') +
  '01 01' +
  key('encoder') +
  str('x') +
  '000009';

const meta = { width: 64, stereo: true, encoder: 'x' };

test('flv metadata: encodeOnMetaData writes onMetaData and an ECMA array', () => {
  assert.equal(encodeOnMetaData(meta).toString('hex'), ON_METADATA.replace(/\s+/g, ''));
});

const parseRows = [
  { name: 'plain onMetaData', hex: ON_METADATA, expected: { name: 'onMetaData', value: meta } },
  {
    name: '@setDataFrame wrapper from an RTMP publisher',
    hex: str('@setDataFrame') + ON_METADATA,
    expected: { name: 'onMetaData', value: meta },
  },
  {
    name: 'anonymous object instead of ECMA array',
    hex: str('onMetaData') + '03' + key('width') + '00 4050000000000000' + '000009',
    expected: { name: 'onMetaData', value: { width: 64 } },
  },
  {
    name: 'other script names, trailing bytes ignored',
    hex: str('onCuePoint') + '05' + '05 05',
    expected: { name: 'onCuePoint', value: null },
  },
  {
    name: 'name without a value',
    hex: str('onMetaData'),
    expected: { name: 'onMetaData', value: undefined },
  },
];

for (const row of parseRows) {
  test(`flv metadata: parseScriptData ${row.name}`, () => {
    assert.deepEqual(parseScriptData(h(row.hex)), row.expected);
  });
}

test('flv metadata: round trip', () => {
  assert.deepEqual(parseScriptData(encodeOnMetaData(meta)), { name: 'onMetaData', value: meta });
});

test('flv metadata: bad script data', () => {
  assert.throws(() => parseScriptData(h('00 4050000000000000')), { code: 'FLV_BAD_SCRIPT_DATA' });
  assert.throws(() => parseScriptData(h(str('@setDataFrame') + '05')), { code: 'FLV_BAD_SCRIPT_DATA' });
  assert.throws(() => parseScriptData(h('')), { code: 'BYTES_TRUNCATED' });
  assert.throws(() => parseScriptData(h('02 0010 6f6e')), { code: 'BYTES_TRUNCATED' });
});

test('flv metadata: the ffmpeg fixture onMetaData', () => {
  const [script] = new FlvReader().push(readFileSync(new URL('../../fixtures/flv/x.flv', import.meta.url)));
  assert.equal(script?.type, TagType.Script);
  const { name, value } = parseScriptData(script.body);
  assert.equal(name, 'onMetaData');
  assert.deepEqual(
    { ...(value as Record<string, unknown>), encoder: undefined },
    {
      duration: 0.7,
      width: 64,
      height: 48,
      videodatarate: 0,
      framerate: 10,
      videocodecid: 7,
      audiodatarate: 67.3828125,
      audiosamplerate: 44100,
      audiosamplesize: 16,
      stereo: false,
      audiocodecid: 10,
      encoder: undefined,
      filesize: 7433,
    },
  );
});
