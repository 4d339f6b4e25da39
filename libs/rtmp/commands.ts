import { decodeCommandPayload, encodeAmf0, type AmfObject, type AmfValue } from '../amf/index.ts';
import { ProtocolError } from '../errors/protocol-error.ts';
import { MessageType, type RtmpMessage } from './message-types.ts';

/** A NetConnection/NetStream command (RTMP spec §7.2). */
export interface RtmpCommand {
  name: string;
  transactionId: number;
  commandObject: AmfValue;
  args: AmfValue[];
}

export const StatusCode = {
  ConnectSuccess: 'NetConnection.Connect.Success',
  ConnectRejected: 'NetConnection.Connect.Rejected',
  PublishStart: 'NetStream.Publish.Start',
  PublishBadName: 'NetStream.Publish.BadName',
  UnpublishSuccess: 'NetStream.Unpublish.Success',
  PlayReset: 'NetStream.Play.Reset',
  PlayStart: 'NetStream.Play.Start',
  PlayStreamNotFound: 'NetStream.Play.StreamNotFound',
  PlayUnpublishNotify: 'NetStream.Play.UnpublishNotify',
  PlayStop: 'NetStream.Play.Stop',
  PublishRejected: 'NetStream.Publish.Rejected',
  /** Not a standard code (FMS has none for this): what Sluice answers a refused credential with. */
  PublishUnauthorized: 'NetStream.Publish.Unauthorized',
  PlayUnauthorized: 'NetStream.Play.Unauthorized',
} as const;

/** Chunk stream ids Sluice sends on (RTMP spec §5.3.1.1: 2 is protocol control). */
export const Csid = { Control: 2, Command: 3, Data: 5, Audio: 4, Video: 6 } as const;

export function parseCommand(msg: RtmpMessage): RtmpCommand {
  const values = decodeCommandPayload(msg.typeId, msg.payload);
  const [name, txn, obj, ...args] = values;
  if (typeof name !== 'string') {
    throw new ProtocolError('RTMP_BAD_COMMAND', 'command message does not start with a command name string');
  }
  return { name, transactionId: typeof txn === 'number' ? txn : 0, commandObject: obj ?? null, args };
}

export function commandMessage(
  name: string,
  transactionId: number,
  commandObject: AmfValue,
  args: readonly AmfValue[] = [],
  streamId = 0,
): RtmpMessage {
  return {
    csid: Csid.Command,
    typeId: MessageType.CommandAmf0,
    streamId,
    timestamp: 0,
    payload: encodeAmf0([name, transactionId, commandObject, ...args]),
  };
}

export function dataMessage(values: readonly AmfValue[], streamId: number): RtmpMessage {
  return {
    csid: Csid.Data,
    typeId: MessageType.DataAmf0,
    streamId,
    timestamp: 0,
    payload: encodeAmf0(values),
  };
}

export function statusInfo(
  level: 'status' | 'error' | 'warning',
  code: string,
  description: string,
): AmfObject {
  return { level, code, description };
}

export function onStatusMessage(
  streamId: number,
  level: 'status' | 'error' | 'warning',
  code: string,
  description: string,
  extra: AmfObject = {},
): RtmpMessage {
  return commandMessage(
    'onStatus',
    0,
    null,
    [{ ...statusInfo(level, code, description), ...extra }],
    streamId,
  );
}

export function connectResultMessage(transactionId: number, objectEncoding: number): RtmpMessage {
  return commandMessage('_result', transactionId, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, [
    { ...statusInfo('status', StatusCode.ConnectSuccess, 'Connection succeeded.'), objectEncoding },
  ]);
}

export function resultMessage(transactionId: number, ...values: AmfValue[]): RtmpMessage {
  return commandMessage('_result', transactionId, null, values);
}

export function errorMessage(transactionId: number, code: string, description: string): RtmpMessage {
  return commandMessage('_error', transactionId, null, [statusInfo('error', code, description)]);
}

/** Flash players need this before they let scripts read the media; harmless for others. */
export function sampleAccessMessage(streamId: number): RtmpMessage {
  return dataMessage(['|RtmpSampleAccess', true, true], streamId);
}
