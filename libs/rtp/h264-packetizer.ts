import { packetizeNalus } from './nal-packetizer.ts';
import type { NalScheme } from './nal-packetizer.ts';
import type { RtpPayload } from './payload.ts';

/** RFC 6184 §5.4 NAL unit types used for packetization. */
export const H264PacketType = { StapA: 24, StapB: 25, Mtap16: 26, Mtap24: 27, FuA: 28, FuB: 29 } as const;

const h264: NalScheme = {
  nalHeaderBytes: 1,
  fuHeaderBytes: 2,
  // §5.7.1: F is the OR of the aggregated F bits, NRI the highest NRI.
  aggregateHeader(nalus) {
    let f = 0;
    let nri = 0;
    for (const n of nalus) {
      f |= n[0]! & 0x80;
      nri = Math.max(nri, n[0]! & 0x60);
    }
    return Buffer.of(f | nri | H264PacketType.StapA);
  },
  // §5.8: FU indicator keeps F and NRI; FU header carries S, E and the NAL type.
  fuHeader(nalu, start, end) {
    const h = nalu[0]!;
    return Buffer.of((h & 0xe0) | H264PacketType.FuA, (start ? 0x80 : 0) | (end ? 0x40 : 0) | (h & 0x1f));
  },
};

/**
 * One H.264 access unit (NAL units without start codes) as RTP payloads, packetization-mode 1
 * (RFC 6184 §6.3): single NAL unit packets, STAP-A for runs of small NAL units, FU-A for NAL
 * units bigger than `maxPayloadBytes`. The last payload carries the marker (§5.1).
 */
export function packetizeH264(nalus: readonly Buffer[], maxPayloadBytes: number): RtpPayload[] {
  return packetizeNalus(h264, nalus, maxPayloadBytes, 'H.264');
}
