import { ByteReader } from '../bytes/byte-reader.ts';
import { ProtocolError } from '../errors/protocol-error.ts';
import { Amf0DecodeContext, AmfEcmaArray, decodeAmf0Value, encodeAmf0 } from '../amf/index.ts';
import type { AmfValue } from '../amf/index.ts';

/**
 * Script tag body `'onMetaData', ECMA array` (FLV spec v10 §E.4.4.1). An ECMA array is
 * what ffmpeg and Flash write and what players expect.
 */
export function encodeOnMetaData(meta: Record<string, number | string | boolean>): Buffer {
  return encodeAmf0(['onMetaData', new AmfEcmaArray(meta)]);
}

export interface ScriptData {
  name: string;
  value: AmfValue;
}

/**
 * Reads a script tag body or RTMP data message: a name string then its value. RTMP
 * publishers send `'@setDataFrame', 'onMetaData', {...}`; the `@setDataFrame` wrapper is
 * stripped so both forms return name 'onMetaData'. Values after the first one are
 * ignored, as is trailing padding some muxers leave. A missing value is `undefined`.
 */
export function parseScriptData(body: Buffer): ScriptData {
  const r = new ByteReader(body);
  const ctx = new Amf0DecodeContext();
  let name = decodeAmf0Value(r, ctx);
  if (name === '@setDataFrame') name = decodeAmf0Value(r, ctx);
  if (typeof name !== 'string') {
    throw new ProtocolError('FLV_BAD_SCRIPT_DATA', 'FLV script data does not start with a name string');
  }
  const value = r.remaining > 0 ? decodeAmf0Value(r, ctx) : undefined;
  return { name, value };
}
