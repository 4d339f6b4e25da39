import { ByteReader } from '../bytes/byte-reader.ts';
import { ProtocolError } from '../errors/protocol-error.ts';
import { decodeAmf3Value } from './amf3-decode.ts';
import { checkDepth, resolveReference, setProperty } from './limits.ts';
import type { ExpansionBudget, RefEntry } from './limits.ts';
import { Amf0Marker } from './markers.ts';
import type { AmfObject, AmfValue } from './types.ts';

/**
 * AMF0 decoding state that spans the values of one message: the reference table of
 * complex values (objects, ECMA arrays, strict arrays, typed objects) in the order they
 * started, and the reference expansion budget.
 */
export class Amf0DecodeContext {
  readonly refs: RefEntry[] = [];
  readonly budget: ExpansionBudget = { referencedBytes: 0 };
}

/**
 * Decodes all consecutive AMF0 values until the end of `buf` (an RTMP command or data
 * message body). One reference table spans the whole buffer, as the spec scopes it.
 */
export function decodeAmf0(buf: Buffer): AmfValue[] {
  const r = new ByteReader(buf);
  const ctx = new Amf0DecodeContext();
  const out: AmfValue[] = [];
  while (r.remaining > 0) out.push(decodeValue(r, ctx, 0));
  return out;
}

/**
 * Decodes one AMF0 value at `r.pos`. Pass one context to several calls to decode the
 * values of one message, so that 0x07 references across them resolve.
 *
 * A reference decodes to the same JS object as its target. References to a value still
 * being decoded (cycles) are rejected with AMF_BAD_REFERENCE, and references standing
 * for more than MAX_REFERENCED_BYTES in total with AMF_TOO_LARGE, so the result is
 * always a finite tree of bounded size.
 */
export function decodeAmf0Value(r: ByteReader, ctx: Amf0DecodeContext = new Amf0DecodeContext()): AmfValue {
  return decodeValue(r, ctx, 0);
}

function decodeValue(r: ByteReader, ctx: Amf0DecodeContext, depth: number): AmfValue {
  const start = r.pos;
  const marker = r.u8('AMF0 type marker');
  switch (marker) {
    case Amf0Marker.Number:
      return r.f64be('AMF0 number');
    case Amf0Marker.Boolean:
      return r.u8('AMF0 boolean') !== 0;
    case Amf0Marker.String:
      return readUtf8(r, r.u16be('AMF0 string length'), 'AMF0 string');
    case Amf0Marker.LongString:
    case Amf0Marker.XmlDocument:
      return readUtf8(r, r.u32be('AMF0 long string length'), 'AMF0 long string');
    case Amf0Marker.Null:
      return null;
    case Amf0Marker.Undefined:
    case Amf0Marker.Unsupported:
      return undefined;
    case Amf0Marker.Reference:
      return resolveReference(ctx.refs, r.u16be('AMF0 reference index'), ctx.budget, 'AMF0');
    case Amf0Marker.Object:
      return readObject(r, ctx, depth, start);
    case Amf0Marker.TypedObject:
      // §2.18: class name then anonymous-object properties; the class name is dropped.
      readUtf8(r, r.u16be('AMF0 class name length'), 'AMF0 class name');
      return readObject(r, ctx, depth, start);
    case Amf0Marker.EcmaArray:
      // §2.10: the u32 count is only a hint (encoders get it wrong); the properties run
      // until object-end, like an anonymous object.
      r.skip(4, 'AMF0 ECMA array count');
      return readObject(r, ctx, depth, start);
    case Amf0Marker.StrictArray:
      return readStrictArray(r, ctx, depth, start);
    case Amf0Marker.Date: {
      const ms = r.f64be('AMF0 date');
      r.skip(2, 'AMF0 date time zone'); // §2.13: reserved, should be 0
      return new Date(ms);
    }
    case Amf0Marker.AvmPlus:
      // §3.1: the next value is AMF3, with fresh AMF3 reference tables.
      return decodeAmf3Value(r, depth, ctx.budget);
    default:
      // MovieClip (0x04) and RecordSet (0x0e) are reserved, object-end (0x09) cannot
      // start a value, and anything above 0x11 is undefined.
      throw new ProtocolError('AMF_BAD_MARKER', `unsupported AMF0 type marker 0x${hex(marker)}`);
  }
}

function readObject(r: ByteReader, ctx: Amf0DecodeContext, depth: number, start: number): AmfObject {
  checkDepth(depth);
  const referencedBefore = ctx.budget.referencedBytes;
  const obj: AmfObject = {};
  const entry: RefEntry = { value: obj, size: -1 };
  ctx.refs.push(entry);
  for (;;) {
    // Quirk: some encoders omit the final 00 00 09 of the last object/ECMA array in a
    // message; lal and SRS treat end-of-buffer as end-of-object, and so do we.
    if (r.remaining === 0) break;
    const key = readUtf8(r, r.u16be('AMF0 property name length'), 'AMF0 property name');
    if (key === '') {
      if (r.remaining === 0) break;
      if (r.buf[r.pos] === Amf0Marker.ObjectEnd) {
        r.pos++;
        break;
      }
    }
    setProperty(obj, key, decodeValue(r, ctx, depth + 1));
  }
  entry.size = r.pos - start + ctx.budget.referencedBytes - referencedBefore;
  return obj;
}

function readStrictArray(r: ByteReader, ctx: Amf0DecodeContext, depth: number, start: number): AmfValue[] {
  checkDepth(depth);
  const count = r.u32be('AMF0 strict array count');
  // Every element takes at least one byte: reject impossible counts before looping.
  r.need(count, 'AMF0 strict array elements');
  const referencedBefore = ctx.budget.referencedBytes;
  const arr: AmfValue[] = [];
  const entry: RefEntry = { value: arr, size: -1 };
  ctx.refs.push(entry);
  for (let i = 0; i < count; i++) arr.push(decodeValue(r, ctx, depth + 1));
  entry.size = r.pos - start + ctx.budget.referencedBytes - referencedBefore;
  return arr;
}

function readUtf8(r: ByteReader, length: number, what: string): string {
  return r.bytes(length, what).toString('utf8');
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
