/**
 * One RTP payload as a packetizer produces it: several parts (headers written by the
 * packetizer, views of the caller's NAL units or AAC frames) that the track output copies once
 * into the wire buffer.
 */
export interface RtpPayload {
  readonly parts: readonly Buffer[];
  readonly byteLength: number;
  readonly marker: boolean;
  /**
   * Added to the RTP timestamp given to `RtpTrackOutput.write` for this packet: AAC packets
   * after the first of a call start later (RFC 3640 §3.2.1: the timestamp is that of the first
   * AU in the packet). Absent means 0.
   */
  readonly rtpTimestampOffset?: number;
}

export function rtpPayload(parts: readonly Buffer[], marker: boolean, rtpTimestampOffset = 0): RtpPayload {
  let byteLength = 0;
  for (const p of parts) byteLength += p.length;
  return rtpTimestampOffset === 0
    ? { parts, byteLength, marker }
    : { parts, byteLength, marker, rtpTimestampOffset };
}

/** The payload's bytes in one Buffer (tests, seeds; the track output copies parts directly). */
export function payloadBytes(p: RtpPayload): Buffer {
  return Buffer.concat(p.parts as Buffer[], p.byteLength);
}
