/**
 * Emulation prevention (H.264 §7.4.1, H.265 §7.4.2): inside a NAL unit every 0x000003
 * stands for 0x0000, so that no start code can appear in the payload. Parsers of the
 * RBSP (SPS, slice headers) must see the bytes with those 0x03 removed.
 */

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Index of the first 0x03 that follows two zero bytes, or -1. */
function firstEmulationByte(b: Uint8Array, from: number): number {
  let zeros = 0;
  for (let i = from; i < b.length; i++) {
    const v = b[i]!;
    if (zeros >= 2 && v === 3) return i;
    zeros = v === 0 ? zeros + 1 : 0;
  }
  return -1;
}

/** NAL unit payload -> RBSP. Returns a view of `nalu` (no copy) when there is nothing to remove. */
export function removeEmulationPrevention(nalu: Uint8Array): Buffer {
  const first = firstEmulationByte(nalu, 0);
  if (first < 0) return asBuffer(nalu);
  const out = Buffer.allocUnsafe(nalu.length - 1);
  out.set(nalu.subarray(0, first), 0);
  let n = first;
  let zeros = 0;
  for (let i = first + 1; i < nalu.length; i++) {
    const v = nalu[i]!;
    if (zeros >= 2 && v === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = v;
    zeros = v === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

/**
 * RBSP -> NAL unit payload: inserts 0x03 after any two zero bytes that precede a byte
 * <= 0x03, and after a trailing cabac_zero_word 0x0000 (§7.4.1: a NAL unit never ends in 0x00).
 * Returns a view of `rbsp` when nothing needs inserting.
 */
export function addEmulationPrevention(rbsp: Uint8Array): Buffer {
  const out: number[] = [];
  let zeros = 0;
  let inserted = false;
  for (const v of rbsp) {
    if (zeros >= 2 && v <= 3) {
      out.push(3);
      zeros = 0;
      inserted = true;
    }
    out.push(v);
    zeros = v === 0 ? zeros + 1 : 0;
  }
  if (zeros >= 2) {
    out.push(3);
    inserted = true;
  }
  return inserted ? Buffer.from(out) : asBuffer(rbsp);
}
