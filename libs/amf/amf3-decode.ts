import type { ByteReader } from '../bytes/byte-reader.ts';
import { ProtocolError } from '../errors/protocol-error.ts';
import { checkDepth, lookupReference, resolveReference, setProperty } from './limits.ts';
import type { ExpansionBudget, RefEntry } from './limits.ts';
import { Amf3Marker } from './markers.ts';
import type { AmfObject, AmfValue } from './types.ts';

/** Class traits, AMF3 spec §3.12. Externalizable traits are rejected before they are stored. */
interface Traits {
  readonly dynamic: boolean;
  readonly sealed: readonly string[];
}

/** The three AMF3 reference tables (§2.2), fresh for every avmplus (0x11) switch. */
interface Amf3Context {
  readonly strings: RefEntry<string>[];
  readonly objects: RefEntry[];
  readonly traits: Traits[];
  readonly budget: ExpansionBudget;
}

/**
 * Decodes one AMF3 value (decode only; used behind the AMF0 avmplus marker).
 *
 * Mapping: integer and double -> number; XML and XMLDocument -> string; date -> Date;
 * array -> JS array when it has no associative part, else an object holding the
 * associative keys plus the dense elements under "0", "1", ...; object -> plain object
 * (class name dropped, sealed then dynamic members); ByteArray -> the string
 * `base64:<data>` because Buffer is not an AmfValue. Externalizable objects raise
 * AMF3_EXTERNALIZABLE (their body format is class-specific); vectors and dictionaries
 * raise AMF3_UNSUPPORTED (no RTMP command uses them).
 *
 * References follow the AMF0 rules: cycles are rejected (AMF_BAD_REFERENCE) and
 * reference expansion is bounded (AMF_TOO_LARGE). `depth` and `budget` come from the
 * enclosing AMF0 value so that one set of limits covers both encodings.
 */
export function decodeAmf3Value(
  r: ByteReader,
  depth = 0,
  budget: ExpansionBudget = { referencedBytes: 0 },
): AmfValue {
  return decodeValue(r, { strings: [], objects: [], traits: [], budget }, depth);
}

function decodeValue(r: ByteReader, ctx: Amf3Context, depth: number): AmfValue {
  const start = r.pos;
  const marker = r.u8('AMF3 type marker');
  switch (marker) {
    case Amf3Marker.Undefined:
      return undefined;
    case Amf3Marker.Null:
      return null;
    case Amf3Marker.False:
      return false;
    case Amf3Marker.True:
      return true;
    case Amf3Marker.Integer: {
      // §3.6: U29 holding a signed 29-bit two's complement integer.
      const v = readU29(r);
      return v >= 0x10000000 ? v - 0x20000000 : v;
    }
    case Amf3Marker.Double:
      return r.f64be('AMF3 double');
    case Amf3Marker.String:
      return readString(r, ctx);
    case Amf3Marker.Xml:
    case Amf3Marker.XmlDocument: {
      const header = readU29(r);
      if ((header & 1) === 0) return resolveReference(ctx.objects, header >>> 1, ctx.budget, 'AMF3 object');
      const s = r.bytes(header >>> 1, 'AMF3 XML').toString('utf8');
      ctx.objects.push({ value: s, size: r.pos - start });
      return s;
    }
    case Amf3Marker.Date: {
      const header = readU29(r);
      if ((header & 1) === 0) return resolveReference(ctx.objects, header >>> 1, ctx.budget, 'AMF3 object');
      const d = new Date(r.f64be('AMF3 date'));
      ctx.objects.push({ value: d, size: r.pos - start });
      return d;
    }
    case Amf3Marker.ByteArray: {
      const header = readU29(r);
      if ((header & 1) === 0) return resolveReference(ctx.objects, header >>> 1, ctx.budget, 'AMF3 object');
      const s = `base64:${r.bytes(header >>> 1, 'AMF3 byte array').toString('base64')}`;
      ctx.objects.push({ value: s, size: r.pos - start });
      return s;
    }
    case Amf3Marker.Array:
      return readArray(r, ctx, depth, start);
    case Amf3Marker.Object:
      return readObject(r, ctx, depth, start);
    case Amf3Marker.VectorInt:
    case Amf3Marker.VectorUint:
    case Amf3Marker.VectorDouble:
    case Amf3Marker.VectorObject:
    case Amf3Marker.Dictionary:
      throw new ProtocolError('AMF3_UNSUPPORTED', `AMF3 type 0x${marker.toString(16)} is not supported`);
    default:
      throw new ProtocolError('AMF_BAD_MARKER', `unknown AMF3 type marker 0x${marker.toString(16)}`);
  }
}

/** §1.3.1: 1-4 bytes, 7 bits per byte with a continuation bit, all 8 bits of a 4th byte. */
function readU29(r: ByteReader): number {
  let v = 0;
  for (let i = 0; i < 3; i++) {
    const b = r.u8('AMF3 U29');
    if ((b & 0x80) === 0) return (v << 7) | b;
    v = (v << 7) | (b & 0x7f);
  }
  return ((v << 8) | r.u8('AMF3 U29')) >>> 0;
}

/** §3.8: U29S-ref or U29S-value; the empty string is never sent by reference. */
function readString(r: ByteReader, ctx: Amf3Context): string {
  const header = readU29(r);
  if ((header & 1) === 0) return resolveReference(ctx.strings, header >>> 1, ctx.budget, 'AMF3 string');
  const length = header >>> 1;
  if (length === 0) return '';
  const s = r.bytes(length, 'AMF3 string').toString('utf8');
  ctx.strings.push({ value: s, size: length });
  return s;
}

/** §3.11: associative part (key/value until the empty key), then the dense part. */
function readArray(r: ByteReader, ctx: Amf3Context, depth: number, start: number): AmfValue {
  const header = readU29(r);
  if ((header & 1) === 0) return resolveReference(ctx.objects, header >>> 1, ctx.budget, 'AMF3 object');
  checkDepth(depth);
  const denseCount = header >>> 1;
  const referencedBefore = ctx.budget.referencedBytes;
  const entry: RefEntry = { value: null, size: -1 }; // registered before members, per §3.11
  ctx.objects.push(entry);
  const assoc: AmfObject = {};
  let hasAssoc = false;
  for (;;) {
    const key = readString(r, ctx);
    if (key === '') break;
    hasAssoc = true;
    setProperty(assoc, key, decodeValue(r, ctx, depth + 1));
  }
  r.need(denseCount, 'AMF3 dense array elements'); // each element is at least one byte
  let result: AmfValue;
  if (hasAssoc) {
    for (let i = 0; i < denseCount; i++) setProperty(assoc, String(i), decodeValue(r, ctx, depth + 1));
    result = assoc;
  } else {
    const dense: AmfValue[] = [];
    for (let i = 0; i < denseCount; i++) dense.push(decodeValue(r, ctx, depth + 1));
    result = dense;
  }
  entry.value = result;
  entry.size = r.pos - start + ctx.budget.referencedBytes - referencedBefore;
  return result;
}

/** §3.12: U29O-ref | U29O-traits-ref | U29O-traits-ext | U29O-traits, then members. */
function readObject(r: ByteReader, ctx: Amf3Context, depth: number, start: number): AmfValue {
  const header = readU29(r);
  if ((header & 1) === 0) return resolveReference(ctx.objects, header >>> 1, ctx.budget, 'AMF3 object');
  checkDepth(depth);
  let traits: Traits;
  if ((header & 2) === 0) {
    traits = lookupReference(ctx.traits, header >>> 2, 'AMF3 traits');
  } else {
    if ((header & 4) !== 0) {
      throw new ProtocolError('AMF3_EXTERNALIZABLE', 'AMF3 externalizable objects are not supported');
    }
    const sealedCount = header >>> 4;
    readString(r, ctx); // class name, dropped
    r.need(sealedCount, 'AMF3 sealed member names'); // each name is at least one byte
    const sealed: string[] = [];
    for (let i = 0; i < sealedCount; i++) sealed.push(readString(r, ctx));
    traits = { dynamic: (header & 8) !== 0, sealed };
    ctx.traits.push(traits);
  }
  const referencedBefore = ctx.budget.referencedBytes;
  const obj: AmfObject = {};
  const entry: RefEntry = { value: obj, size: -1 };
  ctx.objects.push(entry);
  for (const key of traits.sealed) setProperty(obj, key, decodeValue(r, ctx, depth + 1));
  if (traits.dynamic) {
    for (;;) {
      const key = readString(r, ctx);
      if (key === '') break;
      setProperty(obj, key, decodeValue(r, ctx, depth + 1));
    }
  }
  entry.size = r.pos - start + ctx.budget.referencedBytes - referencedBefore;
  return obj;
}
