import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommandPayload, encodeAmf0 } from '../../../libs/amf/index.ts';

// Hand-built AMF0 pieces (AMF0 spec §2.2-2.5), independent of the encoder under test.
const hexOf = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
const u16 = (n: number): string => n.toString(16).padStart(4, '0');
const key = (s: string): string => u16(Buffer.byteLength(s)) + hexOf(s);
const str = (s: string): string => '02' + key(s);
const num = (f64hex: string): string => '00' + f64hex;
const bool = (b: boolean): string => (b ? '0101' : '0100');
const OBJ_END = '000009';

const F64 = {
  one: '3ff0000000000000',
  fifteen: '402e000000000000',
  n4071: '40afce0000000000',
  n252: '406f800000000000',
};

// The connect command as ffmpeg's RTMP client (rtmpproto.c, playing) sends it.
const connectHex =
  str('connect') +
  num(F64.one) +
  '03' +
  key('app') +
  str('live') +
  key('flashVer') +
  str('LNX 9,0,124,2') +
  key('tcUrl') +
  str('rtmp://127.0.0.1:1935/live') +
  key('fpad') +
  bool(false) +
  key('capabilities') +
  num(F64.fifteen) +
  key('audioCodecs') +
  num(F64.n4071) +
  key('videoCodecs') +
  num(F64.n252) +
  key('videoFunction') +
  num(F64.one) +
  OBJ_END;

const connectValues = [
  'connect',
  1,
  {
    app: 'live',
    flashVer: 'LNX 9,0,124,2',
    tcUrl: 'rtmp://127.0.0.1:1935/live',
    fpad: false,
    capabilities: 15,
    audioCodecs: 4071,
    videoCodecs: 252,
    videoFunction: 1,
  },
];

test('command: ffmpeg connect (type 20) decodes, and encodes to the same bytes', () => {
  const payload = Buffer.from(connectHex, 'hex');
  assert.deepEqual(decodeCommandPayload(20, payload), connectValues);
  assert.equal(encodeAmf0(connectValues).toString('hex'), connectHex);
});

test('command: AMF0 data message (type 18) with @setDataFrame', () => {
  const payload = Buffer.from(
    str('@setDataFrame') +
      str('onMetaData') +
      '08 00000001'.replace(/ /g, '') +
      key('width') +
      num(F64.one) +
      OBJ_END,
    'hex',
  );
  assert.deepEqual(decodeCommandPayload(18, payload), ['@setDataFrame', 'onMetaData', { width: 1 }]);
});

test('command: AMF3 command (type 17) with format byte and an avmplus-switched object', () => {
  // 00 format byte, then AMF0 'connect', 1, then 0x11 + AMF3 dynamic object {app:'live', tcUrl} and AMF0 null.
  // String table as decoded: 0 'app', 1 'live', 2 'tcUrl', 3 'rtmp://host/live', 4 'key'.
  const amf3Object =
    '11' +
    '0a 0b 01' + // AMF3 object, inline traits, dynamic, 0 sealed members, class name ''
    ('07' + hexOf('app')) + // key: inline string of 3 bytes ((3 << 1) | 1)
    ('06 09' + hexOf('live')) +
    ('0b' + hexOf('tcUrl')) +
    ('06 21' + hexOf('rtmp://host/live')) +
    ('07' + hexOf('key')) +
    '06 02' + // value: string reference 1 ('live')
    '01'; // empty key: end of dynamic members
  const payload = Buffer.from(
    ('00' + str('connect') + num(F64.one) + amf3Object + '05').replace(/ /g, ''),
    'hex',
  );
  const values = decodeCommandPayload(17, payload);
  assert.deepEqual(values, ['connect', 1, { app: 'live', tcUrl: 'rtmp://host/live', key: 'live' }, null]);
});

test('command: AMF3 data (type 15) and a type 17 body without the format byte', () => {
  const body = str('onTextData') + '03' + key('text') + str('hi') + OBJ_END;
  assert.deepEqual(decodeCommandPayload(15, Buffer.from('00' + body, 'hex')), ['onTextData', { text: 'hi' }]);
  assert.deepEqual(decodeCommandPayload(17, Buffer.from(body, 'hex')), ['onTextData', { text: 'hi' }]);
  assert.deepEqual(decodeCommandPayload(17, Buffer.alloc(0)), []);
});

test('command: other message types are rejected', () => {
  assert.throws(() => decodeCommandPayload(9, Buffer.from('05', 'hex')), { code: 'AMF_BAD_MESSAGE_TYPE' });
});
