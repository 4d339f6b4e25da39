import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  abortMessage,
  ackMessage,
  parseSetPeerBandwidth,
  parseU32Control,
  parseUserControl,
  pingRequestMessage,
  pingResponseMessage,
  setChunkSizeMessage,
  setPeerBandwidthMessage,
  streamBeginMessage,
  streamEofMessage,
  userControlMessage,
  windowAckSizeMessage,
} from '../../../libs/rtmp/control.ts';
import type { UserControl } from '../../../libs/rtmp/control.ts';
import { MessageType, UserControlEvent } from '../../../libs/rtmp/message-types.ts';
import type { RtmpMessage } from '../../../libs/rtmp/message-types.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';

const builders: { name: string; message: RtmpMessage; typeId: number; hex: string; parsed?: UserControl }[] =
  [
    {
      name: 'set chunk size',
      message: setChunkSizeMessage(4096),
      typeId: MessageType.SetChunkSize,
      hex: '00001000',
    },
    { name: 'abort', message: abortMessage(6), typeId: MessageType.Abort, hex: '00000006' },
    { name: 'ack', message: ackMessage(0xfffffffe), typeId: MessageType.Ack, hex: 'fffffffe' },
    { name: 'ack wraps', message: ackMessage(2 ** 32 + 5), typeId: MessageType.Ack, hex: '00000005' },
    {
      name: 'window ack size',
      message: windowAckSizeMessage(2500000),
      typeId: MessageType.WindowAckSize,
      hex: '002625a0',
    },
    {
      name: 'set peer bandwidth',
      message: setPeerBandwidthMessage(2500000, 2),
      typeId: MessageType.SetPeerBandwidth,
      hex: '002625a002',
    },
    {
      name: 'stream begin',
      message: streamBeginMessage(1),
      typeId: MessageType.UserControl,
      hex: '000000000001',
      parsed: { event: UserControlEvent.StreamBegin, value: 1 },
    },
    {
      name: 'stream eof',
      message: streamEofMessage(1),
      typeId: MessageType.UserControl,
      hex: '000100000001',
      parsed: { event: UserControlEvent.StreamEof, value: 1 },
    },
    {
      name: 'ping request',
      message: pingRequestMessage(0x12345678),
      typeId: MessageType.UserControl,
      hex: '000612345678',
      parsed: { event: UserControlEvent.PingRequest, value: 0x12345678 },
    },
    {
      name: 'ping response',
      message: pingResponseMessage(0x12345678),
      typeId: MessageType.UserControl,
      hex: '000712345678',
      parsed: { event: UserControlEvent.PingResponse, value: 0x12345678 },
    },
    {
      name: 'set buffer length',
      message: userControlMessage(UserControlEvent.SetBufferLength, 1, 3000),
      typeId: MessageType.UserControl,
      hex: '00030000000100000bb8',
      parsed: { event: UserControlEvent.SetBufferLength, value: 1, bufferLengthMs: 3000 },
    },
    {
      name: 'stream is recorded',
      message: userControlMessage(UserControlEvent.StreamIsRecorded, 1),
      typeId: MessageType.UserControl,
      hex: '000400000001',
      parsed: { event: UserControlEvent.StreamIsRecorded, value: 1 },
    },
  ];

for (const c of builders) {
  test(`control: ${c.name} builds exact bytes on csid 2, stream 0, timestamp 0`, () => {
    assert.equal(c.message.payload.toString('hex'), c.hex);
    assert.deepEqual(
      {
        csid: c.message.csid,
        typeId: c.message.typeId,
        streamId: c.message.streamId,
        timestamp: c.message.timestamp,
      },
      { csid: 2, typeId: c.typeId, streamId: 0, timestamp: 0 },
    );
    if (c.parsed) assert.deepEqual(parseUserControl(c.message.payload), c.parsed);
    else assert.equal(parseU32Control(c.message.payload, c.name), c.message.payload.readUInt32BE(0));
  });
}

test('control: set peer bandwidth parses', () => {
  assert.deepEqual(parseSetPeerBandwidth(setPeerBandwidthMessage(5000000, 1).payload), {
    size: 5000000,
    limitType: 1,
  });
});

test('control: builders reject out-of-range values with RangeError', () => {
  assert.throws(() => setChunkSizeMessage(0), RangeError);
  assert.throws(() => setChunkSizeMessage(0x80000000), RangeError);
  assert.throws(() => windowAckSizeMessage(-1), RangeError);
  assert.throws(() => abortMessage(1.5), RangeError);
});

test('control: unknown user control events pass through', () => {
  assert.deepEqual(parseUserControl(Buffer.from('001a', 'hex')), { event: 26, value: 0 });
  assert.deepEqual(parseUserControl(Buffer.from('001b00000005ffff', 'hex')), { event: 27, value: 5 });
});

const bad: { name: string; run: () => unknown; code: string }[] = [
  { name: 'empty user control', run: () => parseUserControl(Buffer.alloc(0)), code: 'RTMP_BAD_USER_CONTROL' },
  {
    name: '1-byte user control',
    run: () => parseUserControl(Buffer.from('00', 'hex')),
    code: 'RTMP_BAD_USER_CONTROL',
  },
  {
    name: 'stream begin without stream id',
    run: () => parseUserControl(Buffer.from('0000000001', 'hex')),
    code: 'RTMP_BAD_USER_CONTROL',
  },
  {
    name: 'set buffer length without length',
    run: () => parseUserControl(Buffer.from('000300000001', 'hex')),
    code: 'RTMP_BAD_USER_CONTROL',
  },
  {
    name: 'short u32 control',
    run: () => parseU32Control(Buffer.from('000010', 'hex'), 'ack'),
    code: 'RTMP_BAD_CONTROL_MESSAGE',
  },
  {
    name: 'short set peer bandwidth',
    run: () => parseSetPeerBandwidth(Buffer.from('00001000', 'hex')),
    code: 'RTMP_BAD_CONTROL_MESSAGE',
  },
];

for (const c of bad) {
  test(`control rejects: ${c.name}`, () => {
    assert.throws(c.run, (e: unknown) => e instanceof ProtocolError && e.code === c.code);
  });
}
