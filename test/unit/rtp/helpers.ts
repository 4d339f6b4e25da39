import { forEachInterleaved, parseRtpPacket, RtpTrackOutput } from '../../../libs/rtp/index.ts';
import type { RtpPacket, RtpPayload } from '../../../libs/rtp/index.ts';

/** Payloads through the real wire path: RtpTrackOutput, interleaved records, parseRtpPacket. */
export class Wire {
  readonly out: RtpTrackOutput;
  constructor(initialSequence = 1000, clockRate = 90000) {
    this.out = new RtpTrackOutput({ payloadType: 96, clockRate, ssrc: 0x1234, initialSequence, channel: 0 });
  }
  packets(payloads: readonly RtpPayload[], ts: number): RtpPacket[] {
    const pkts: RtpPacket[] = [];
    forEachInterleaved(this.out.write(payloads, ts), (_ch, b) => pkts.push(parseRtpPacket(Buffer.from(b))));
    return pkts;
  }
}

/** Deterministic filler bytes (never 0 at the end, like real NAL units). */
export function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = (x >>> 16) & 0xff;
  }
  if (n > 0) b[n - 1] = 0x80;
  return b;
}

/** An H.264 NAL unit of `size` bytes with the given type (NRI 3). */
export function h264Nal(type: number, size: number, seed = type): Buffer {
  const b = bytes(size, seed);
  b[0] = 0x60 | type;
  return b;
}

/** An H.265 NAL unit of `size` bytes with the given type (layer 0, TID 1). */
export function h265Nal(type: number, size: number, seed = type): Buffer {
  const b = bytes(size, seed);
  b[0] = type << 1;
  if (size > 1) b[1] = 1;
  return b;
}
