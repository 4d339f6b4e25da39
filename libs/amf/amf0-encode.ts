import { ByteWriter } from '../bytes/byte-writer.ts';
import { ProtocolError } from '../errors/protocol-error.ts';
import { checkDepth } from './limits.ts';
import { Amf0Marker } from './markers.ts';
import { AmfEcmaArray } from './types.ts';
import type { AmfObject, AmfValue } from './types.ts';

/**
 * Encodes values back to back as AMF0: number, boolean, string (long string when the
 * UTF-8 form exceeds 65535 bytes), null, undefined, Date (time zone 0), arrays as strict
 * arrays, AmfEcmaArray as ECMA array, plain objects as anonymous objects.
 *
 * No references (0x07) are written, because common decoders (ffmpeg, flv.js) do not
 * support them: a value shared twice is written twice, and a cyclic value (which decoding
 * a self-reference can produce) fails with AMF_TOO_DEEP instead of recursing forever.
 */
export function encodeAmf0(values: readonly AmfValue[]): Buffer {
  const w = new ByteWriter();
  for (const v of values) writeValue(w, v, 0);
  return w.toBuffer();
}

function writeValue(w: ByteWriter, v: AmfValue, depth: number): void {
  if (v === null) {
    w.u8(Amf0Marker.Null);
  } else if (v === undefined) {
    w.u8(Amf0Marker.Undefined);
  } else if (typeof v === 'number') {
    w.u8(Amf0Marker.Number).f64be(v);
  } else if (typeof v === 'boolean') {
    w.u8(Amf0Marker.Boolean).u8(v ? 1 : 0);
  } else if (typeof v === 'string') {
    const utf8 = Buffer.from(v, 'utf8');
    if (utf8.length > 0xffff) w.u8(Amf0Marker.LongString).u32be(utf8.length);
    else w.u8(Amf0Marker.String).u16be(utf8.length);
    w.bytes(utf8);
  } else if (v instanceof Date) {
    w.u8(Amf0Marker.Date).f64be(v.getTime()).i16be(0);
  } else if (Array.isArray(v)) {
    checkDepth(depth);
    w.u8(Amf0Marker.StrictArray).u32be(v.length);
    for (const item of v) writeValue(w, item, depth + 1);
  } else if (v instanceof AmfEcmaArray) {
    checkDepth(depth);
    const keys = Object.keys(v.entries);
    w.u8(Amf0Marker.EcmaArray).u32be(keys.length);
    writeProperties(w, v.entries, keys, depth);
  } else {
    checkDepth(depth);
    w.u8(Amf0Marker.Object);
    writeProperties(w, v, Object.keys(v), depth);
  }
}

function writeProperties(w: ByteWriter, obj: AmfObject, keys: readonly string[], depth: number): void {
  for (const key of keys) {
    const name = Buffer.from(key, 'utf8');
    // Property names have a u16 length; a longer one (possible from AMF3 input) cannot be sent.
    if (name.length > 0xffff) {
      throw new ProtocolError('AMF_KEY_TOO_LONG', `AMF0 property name of ${name.length} bytes exceeds 65535`);
    }
    w.u16be(name.length).bytes(name);
    writeValue(w, obj[key], depth + 1);
  }
  w.u16be(0).u8(Amf0Marker.ObjectEnd);
}
