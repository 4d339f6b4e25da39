import { isDeepStrictEqual } from 'node:util';
import { decodeAmf0, encodeAmf0 } from '../../../libs/amf/index.ts';
import type { AmfValue } from '../../../libs/amf/index.ts';
import { MAX_REFERENCED_BYTES } from '../../../libs/amf/index.ts';
import { invariant } from './target.ts';

/**
 * Invariants of decoded AMF values: they encode again (or fail with a ProtocolError, e.g. a
 * property name too long for AMF0), the encoding decodes to an equal value, and it is no
 * larger than `growth` x (input + what references may stand for), so references cannot hide
 * an expansion the decoder's budget missed.
 */
export function checkAmfRoundTrip(values: AmfValue[], inputBytes: number, growth: number): void {
  const encoded = encodeAmf0(values);
  invariant(
    encoded.length <= growth * (inputBytes + MAX_REFERENCED_BYTES) + 3 * 64,
    () => `re-encoded ${encoded.length} bytes from ${inputBytes} input bytes`,
  );
  const again = decodeAmf0(encoded);
  invariant(isDeepStrictEqual(canon(again), canon(values)), 'decode(encode(decoded)) differs from decoded');
}

/** Dates as their time values, so two Invalid Dates (a NaN on the wire) compare equal. */
function canon(v: AmfValue): unknown {
  if (v instanceof Date) return { date: v.getTime() };
  if (Array.isArray(v)) return v.map(canon);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      Object.defineProperty(out, k, { value: canon((v as Record<string, AmfValue>)[k]), enumerable: true });
    }
    return out;
  }
  return v;
}
