import type { AmfValue } from '../../../libs/amf/index.ts';
import { AmfEcmaArray } from '../../../libs/amf/index.ts';

// A small AMF3 writer (AMF3 spec §1.3.1, §3) for the amf3 seeds: no client available here
// sends AMF3, so the values real clients sent in AMF0 are written again in AMF3. Strings and
// traits are written with references the second time they occur, as Flash Player does.

export function encodeAmf3(v: AmfValue): Buffer {
  const out: number[] = [];
  const strings = new Map<string, number>();
  writeValue(out, v, strings);
  return Buffer.from(out);
}

function u29(out: number[], n: number): void {
  const v = n & 0x1fffffff;
  if (v < 0x80) out.push(v);
  else if (v < 0x4000) out.push(0x80 | (v >> 7), v & 0x7f);
  else if (v < 0x200000) out.push(0x80 | (v >> 14), 0x80 | ((v >> 7) & 0x7f), v & 0x7f);
  else out.push(0x80 | (v >> 22), 0x80 | ((v >> 15) & 0x7f), 0x80 | ((v >> 8) & 0x7f), v & 0xff);
}

function str(out: number[], s: string, strings: Map<string, number>): void {
  if (s === '') return void out.push(0x01);
  const ref = strings.get(s);
  if (ref !== undefined) return u29(out, ref << 1);
  strings.set(s, strings.size);
  const b = Buffer.from(s, 'utf8');
  u29(out, (b.length << 1) | 1);
  out.push(...b);
}

function writeValue(out: number[], v: AmfValue, strings: Map<string, number>): void {
  if (v === undefined) out.push(0x00);
  else if (v === null) out.push(0x01);
  else if (v === false) out.push(0x02);
  else if (v === true) out.push(0x03);
  else if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= -0x10000000 && v < 0x10000000) {
      out.push(0x04);
      u29(out, v);
    } else {
      out.push(0x05);
      const b = Buffer.alloc(8);
      b.writeDoubleBE(v);
      out.push(...b);
    }
  } else if (typeof v === 'string') {
    out.push(0x06);
    str(out, v, strings);
  } else if (v instanceof Date) {
    out.push(0x08, 0x01);
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v.getTime());
    out.push(...b);
  } else if (Array.isArray(v)) {
    out.push(0x09);
    u29(out, (v.length << 1) | 1);
    out.push(0x01); // no associative part
    for (const x of v) writeValue(out, x, strings);
  } else {
    const entries = v instanceof AmfEcmaArray ? v.entries : v;
    out.push(0x0a, 0x0b, 0x01); // dynamic anonymous object: traits inline, no sealed members, class ''
    for (const [k, x] of Object.entries(entries)) {
      str(out, k, strings);
      writeValue(out, x, strings);
    }
    out.push(0x01);
  }
}
