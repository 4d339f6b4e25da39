import { ProtocolError } from '../errors/protocol-error.ts';
import { RtpErrorCode } from './errors.ts';
import { rtpPayload } from './payload.ts';
import type { RtpPayload } from './payload.ts';

/**
 * mpeg4-generic AAC-hbr (RFC 3640 §3.3.6): sizelength=13, indexlength=3, indexdeltalength=3,
 * so each AU-header is 16 bits with index / index-delta 0 (AUs in order, none interleaved).
 */
export const AAC_HBR = { sizeLength: 13, indexLength: 3, indexDeltaLength: 3 } as const;
/** Largest AU a 13-bit AU-size can describe. */
export const AAC_HBR_MAX_AU_BYTES = (1 << AAC_HBR.sizeLength) - 1;
/** Samples per AAC frame (1024; 960 for the rare 960-sample framing). */
export const AAC_SAMPLES_PER_AU = 1024;

const AU_HEADERS_LENGTH_BYTES = 2;
const AU_HEADER_BYTES = 2;
/** AU-headers-length is a 16-bit count of bits: at most 4095 16-bit AU-headers. */
const MAX_AUS_PER_PACKET = 4095;

/**
 * Raw AAC frames (no ADTS) as RTP payloads. Consecutive AUs share a packet while they fit
 * (each packet's `rtpTimestampOffset` is its first AU's index x `samplesPerAu`); an AU bigger
 * than one packet is fragmented (§3.2.3: every fragment's AU-header carries the whole AU's
 * size; the marker is cleared on all fragments but the last). Other packets carry the marker
 * (§3.2.2: set on a packet holding complete AUs).
 */
export function packetizeAac(
  accessUnits: readonly Buffer[],
  maxPayloadBytes: number,
  samplesPerAu = AAC_SAMPLES_PER_AU,
): RtpPayload[] {
  const overhead = AU_HEADERS_LENGTH_BYTES + AU_HEADER_BYTES;
  if (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes < overhead + 1) {
    throw new RangeError(`AAC maxPayloadBytes must be an integer >= ${overhead + 1}, got ${maxPayloadBytes}`);
  }
  const out: RtpPayload[] = [];
  let i = 0;
  while (i < accessUnits.length) {
    const au = accessUnits[i]!;
    if (au.length > AAC_HBR_MAX_AU_BYTES) {
      // The AU came from the network (a publisher's frame): no AAC-hbr header can describe it.
      throw new ProtocolError(
        RtpErrorCode.AacUnitTooLarge,
        `AAC frame of ${au.length} bytes > ${AAC_HBR_MAX_AU_BYTES}`,
      );
    }
    if (overhead + au.length > maxPayloadBytes) {
      const chunk = maxPayloadBytes - overhead;
      for (let pos = 0; pos < au.length; pos += chunk) {
        const end = Math.min(pos + chunk, au.length);
        out.push(
          rtpPayload([auHeaders([au.length]), au.subarray(pos, end)], end === au.length, i * samplesPerAu),
        );
      }
      i++;
      continue;
    }
    let size = overhead + au.length;
    let j = i + 1;
    while (j < accessUnits.length && j - i < MAX_AUS_PER_PACKET) {
      const next = accessUnits[j]!;
      if (next.length > AAC_HBR_MAX_AU_BYTES || size + AU_HEADER_BYTES + next.length > maxPayloadBytes) break;
      size += AU_HEADER_BYTES + next.length;
      j++;
    }
    const group = accessUnits.slice(i, j);
    out.push(rtpPayload([auHeaders(group.map((a) => a.length)), ...group], true, i * samplesPerAu));
    i = j;
  }
  return out;
}

/** AU-headers-length (in bits, §3.2.1) and one 16-bit AU-header per AU (size << 3, index 0). */
function auHeaders(sizes: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(AU_HEADERS_LENGTH_BYTES + AU_HEADER_BYTES * sizes.length);
  b.writeUInt16BE(sizes.length * AU_HEADER_BYTES * 8, 0);
  sizes.forEach((s, k) =>
    b.writeUInt16BE(s << AAC_HBR.indexLength, AU_HEADERS_LENGTH_BYTES + AU_HEADER_BYTES * k),
  );
  return b;
}
