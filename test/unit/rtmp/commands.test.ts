import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAmf0, encodeAmf0, type AmfObject } from '../../../libs/amf/index.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import {
  commandMessage,
  connectResultMessage,
  Csid,
  onStatusMessage,
  parseCommand,
  resultMessage,
  sampleAccessMessage,
  StatusCode,
} from '../../../libs/rtmp/commands.ts';
import { MessageType } from '../../../libs/rtmp/message-types.ts';

const msg = (typeId: number, payload: Buffer) => ({ csid: 3, typeId, streamId: 0, timestamp: 0, payload });

test('commands: parse an AMF0 connect and an AMF3-wrapped publish', () => {
  const connect = parseCommand(
    msg(MessageType.CommandAmf0, encodeAmf0(['connect', 1, { app: 'live', tcUrl: 'rtmp://h/live' }])),
  );
  assert.equal(connect.name, 'connect');
  assert.equal(connect.transactionId, 1);
  assert.equal((connect.commandObject as AmfObject).app, 'live');
  const amf3 = Buffer.concat([Buffer.from([0]), encodeAmf0(['publish', 5, null, 'test', 'live'])]);
  const publish = parseCommand(msg(MessageType.CommandAmf3, amf3));
  assert.deepEqual([publish.name, publish.transactionId, publish.args], ['publish', 5, ['test', 'live']]);
});

test('commands: a payload that does not start with a name is a ProtocolError', () => {
  for (const bad of [encodeAmf0([1, 2]), encodeAmf0([]), Buffer.from([0x02, 0x00])]) {
    assert.throws(() => parseCommand(msg(MessageType.CommandAmf0, bad)), ProtocolError);
  }
});

// What ffmpeg's read_number_result expects for createStream: "_result", txn, null, number.
const cases = [
  { name: 'createStream result', m: resultMessage(4, 1), values: ['_result', 4, null, 1] },
  { name: 'releaseStream result', m: resultMessage(2), values: ['_result', 2, null] },
  {
    name: 'onStatus Play.Start',
    m: onStatusMessage(1, 'status', StatusCode.PlayStart, 'go'),
    values: ['onStatus', 0, null, { level: 'status', code: 'NetStream.Play.Start', description: 'go' }],
  },
  { name: 'sample access', m: sampleAccessMessage(1), values: ['|RtmpSampleAccess', true, true] },
  { name: 'custom command', m: commandMessage('onFCPublish', 0, null, []), values: ['onFCPublish', 0, null] },
];
for (const c of cases) {
  test(`commands: ${c.name} encodes as expected`, () => {
    assert.deepEqual(decodeAmf0(c.m.payload), c.values);
  });
}

test('commands: connect result carries NetConnection.Connect.Success on the command chunk stream', () => {
  const m = connectResultMessage(1, 0);
  assert.equal(m.csid, Csid.Command);
  assert.equal(m.typeId, MessageType.CommandAmf0);
  const [name, txn, props, info] = decodeAmf0(m.payload) as [string, number, AmfObject, AmfObject];
  assert.deepEqual([name, txn, info.code, info.objectEncoding], ['_result', 1, StatusCode.ConnectSuccess, 0]);
  assert.equal(typeof props.fmsVer, 'string');
});
