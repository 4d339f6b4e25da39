import { packetizeNalus } from './nal-packetizer.ts';
import type { NalScheme } from './nal-packetizer.ts';
import type { RtpPayload } from './payload.ts';

/** RFC 7798 §4.4 payload header types beyond the NAL unit types. */
export const H265PacketType = { Ap: 48, Fu: 49, Paci: 50 } as const;

const h265: NalScheme = {
  nalHeaderBytes: 2,
  fuHeaderBytes: 3,
  // §4.4.2: F is the OR of the F bits, LayerId and TID the lowest of the aggregated units.
  aggregateHeader(nalus) {
    let f = 0;
    let layerId = 0x3f;
    let tid = 7;
    for (const n of nalus) {
      f |= n[0]! & 0x80;
      layerId = Math.min(layerId, ((n[0]! & 1) << 5) | (n[1]! >>> 3));
      tid = Math.min(tid, n[1]! & 7);
    }
    return Buffer.of(f | (H265PacketType.Ap << 1) | (layerId >>> 5), ((layerId & 0x1f) << 3) | tid);
  },
  // §4.4.3: payload header = the NAL header with Type 49; FU header = S, E and the NAL type.
  fuHeader(nalu, start, end) {
    const type = (nalu[0]! >>> 1) & 0x3f;
    return Buffer.of(
      (nalu[0]! & 0x81) | (H265PacketType.Fu << 1),
      nalu[1]!,
      (start ? 0x80 : 0) | (end ? 0x40 : 0) | type,
    );
  },
};

/**
 * One H.265 access unit (NAL units without start codes) as RTP payloads (RFC 7798, no DONL:
 * sprop-max-don-diff 0): single NAL unit packets, AP for runs of small NAL units, FU for NAL
 * units bigger than `maxPayloadBytes`. The last payload carries the marker (§4.1).
 */
export function packetizeH265(nalus: readonly Buffer[], maxPayloadBytes: number): RtpPayload[] {
  return packetizeNalus(h265, nalus, maxPayloadBytes, 'H.265');
}
