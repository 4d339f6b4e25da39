import { rtpPayload } from './payload.ts';
import type { RtpPayload } from './payload.ts';

/**
 * What differs between H.264 (RFC 6184) and H.265 (RFC 7798) packetization: the NAL header
 * size, the aggregation packet's header and the fragmentation unit's headers. The walk over an
 * access unit (single NAL, aggregate, fragment) is the same.
 */
export interface NalScheme {
  /** NAL unit header bytes: 1 (H.264) or 2 (H.265). */
  readonly nalHeaderBytes: number;
  /** STAP-A / AP header for these NAL units. */
  aggregateHeader(nalus: readonly Buffer[]): Buffer;
  /** FU indicator+header (H.264, 2 bytes) or payload header+FU header (H.265, 3 bytes). */
  fuHeader(nalu: Buffer, start: boolean, end: boolean): Buffer;
  readonly fuHeaderBytes: number;
}

/** A NAL size field in STAP-A / AP is 16 bits (RFC 6184 §5.7.1, RFC 7798 §4.4.2). */
const MAX_AGGREGATED_NAL = 0xffff;

export function packetizeNalus(
  scheme: NalScheme,
  nalus: readonly Buffer[],
  maxPayloadBytes: number,
  codec: string,
): RtpPayload[] {
  const minimum = scheme.fuHeaderBytes + 1;
  if (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes < minimum) {
    throw new RangeError(`${codec} maxPayloadBytes must be an integer >= ${minimum}, got ${maxPayloadBytes}`);
  }
  // NAL units shorter than their header are not NAL units (and could not be fragmented).
  const units = nalus.filter((n) => n.length >= scheme.nalHeaderBytes && n.length > 0);
  const out: { parts: Buffer[] }[] = [];
  let i = 0;
  while (i < units.length) {
    const nalu = units[i]!;
    if (nalu.length > maxPayloadBytes) {
      fragment(scheme, nalu, maxPayloadBytes, out);
      i++;
      continue;
    }
    // Aggregate the following small NAL units while the packet still fits.
    const aggregateHeaderBytes = scheme.nalHeaderBytes;
    let size = aggregateHeaderBytes + 2 + nalu.length;
    let j = i + 1;
    while (nalu.length <= MAX_AGGREGATED_NAL && j < units.length) {
      const next = units[j]!;
      if (next.length > MAX_AGGREGATED_NAL || size + 2 + next.length > maxPayloadBytes) break;
      size += 2 + next.length;
      j++;
    }
    if (j - i < 2) {
      out.push({ parts: [nalu] });
      i++;
      continue;
    }
    const group = units.slice(i, j);
    const sizes = Buffer.allocUnsafe(2 * group.length);
    const parts: Buffer[] = [scheme.aggregateHeader(group)];
    group.forEach((n, k) => {
      sizes.writeUInt16BE(n.length, 2 * k);
      parts.push(sizes.subarray(2 * k, 2 * k + 2), n);
    });
    out.push({ parts });
    i = j;
  }
  return out.map((p, k) => rtpPayload(p.parts, k === out.length - 1));
}

/** FU-A / FU: the NAL header is dropped and carried in the FU headers (RFC 6184 §5.8, RFC 7798 §4.4.3). */
function fragment(
  scheme: NalScheme,
  nalu: Buffer,
  maxPayloadBytes: number,
  out: { parts: Buffer[] }[],
): void {
  const chunk = maxPayloadBytes - scheme.fuHeaderBytes;
  for (let pos = scheme.nalHeaderBytes; pos < nalu.length; pos += chunk) {
    const end = Math.min(pos + chunk, nalu.length);
    const header = scheme.fuHeader(nalu, pos === scheme.nalHeaderBytes, end === nalu.length);
    out.push({ parts: [header, nalu.subarray(pos, end)] });
  }
}
