import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import { AmfEcmaArray, decodeAmf0, decodeCommandPayload, encodeAmf0 } from '../../libs/amf/index.ts';
import type { AmfObject, AmfValue } from '../../libs/amf/index.ts';

const RUNS = 2000;

/** Runs `fn` and fails the property if it throws anything but a ProtocolError. */
function onlyProtocolErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
}

const bytes = fc.uint8Array({ maxLength: 256 }).map((a) => Buffer.from(a));

const leaf: fc.Arbitrary<AmfValue> = fc.oneof(
  fc.double(),
  fc.boolean(),
  fc.string({ maxLength: 20 }),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: true }),
);

const { value: amfValue } = fc.letrec<{
  value: AmfValue;
  array: AmfValue[];
  object: AmfObject;
  ecma: AmfEcmaArray;
}>((tie) => ({
  value: fc.oneof({ maxDepth: 6, depthSize: 'small' }, leaf, tie('array'), tie('object'), tie('ecma')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ecma: fc
    .dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4, noNullPrototype: true })
    .map((e) => new AmfEcmaArray(e)),
}));

/** What decoding gives back: ECMA arrays become plain objects. */
function normalize(v: AmfValue): AmfValue {
  if (Array.isArray(v)) return v.map(normalize);
  if (v instanceof AmfEcmaArray) return normalize(v.entries);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const out: AmfObject = {};
    for (const k of Object.keys(v))
      Object.defineProperty(out, k, {
        value: normalize(v[k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return v;
}

test('fuzz amf: random bytes into every decoder raise only ProtocolError', () => {
  fc.assert(
    fc.property(bytes, (buf) => {
      onlyProtocolErrors(() => decodeAmf0(buf));
      onlyProtocolErrors(() => decodeAmf0(Buffer.concat([Buffer.from([0x11]), buf])));
      for (const typeId of [15, 17, 18, 20]) onlyProtocolErrors(() => decodeCommandPayload(typeId, buf));
    }),
    { numRuns: RUNS },
  );
});

test('fuzz amf: encode then decode gives the value back', () => {
  fc.assert(
    fc.property(fc.array(amfValue, { maxLength: 4 }), (values) => {
      assert.deepEqual(decodeAmf0(encodeAmf0(values)), values.map(normalize));
    }),
    { numRuns: RUNS },
  );
});

test('fuzz amf: mutated and truncated valid encodings raise only ProtocolError', () => {
  fc.assert(
    fc.property(
      fc.array(amfValue, { minLength: 1, maxLength: 3 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.nat(),
      (values, at, byte, cut) => {
        const buf = Buffer.from(encodeAmf0(values));
        buf[at % buf.length] = byte;
        onlyProtocolErrors(() => decodeAmf0(buf));
        onlyProtocolErrors(() => decodeAmf0(buf.subarray(0, cut % (buf.length + 1))));
      },
    ),
    { numRuns: RUNS },
  );
});
