import { ProtocolError } from '../errors/protocol-error.ts';
import { H264Nal } from '../codec/index.ts';
import { NalAuAssembler } from './access-unit.ts';
import type { AccessUnit } from './access-unit.ts';
import { RtpErrorCode } from './errors.ts';
import { H264PacketType } from './h264-packetizer.ts';
import type { RtpPacket } from './packet.ts';

type H264Content =
  | { kind: 'nals'; nalus: Buffer[] }
  | { kind: 'fu'; header: Buffer | null; data: Buffer; end: boolean }
  | { kind: 'none' };

/**
 * H.264 RTP depacketizer, packetization-mode 0 and 1 (RFC 6184 §6.2, §6.3): single NAL unit
 * packets, STAP-A, FU-A. Fed packets in order; emits access units once complete, starting at
 * (and resuming after a loss at) a key frame.
 */
export class H264Depacketizer {
  private readonly au = new NalAuAssembler((n) => (n[0]! & 0x1f) === H264Nal.Idr);

  get droppedUnits(): number {
    return this.au.droppedUnits;
  }

  push(pkt: RtpPacket): AccessUnit[] {
    // Parsed before any state changes, so a bad packet raises without losing what came before.
    const content = parseH264Payload(pkt.payload);
    const out: AccessUnit[] = [];
    this.au.begin(pkt, out);
    if (content.kind === 'nals') {
      for (const n of content.nalus) this.au.addNal(n);
    } else if (content.kind === 'fu') {
      if (content.header) this.au.startFragment(content.header);
      this.au.appendFragment(content.data, content.end);
    }
    if (pkt.marker) this.au.end(out);
    return out;
  }

  lost(): void {
    this.au.lost();
  }
}

function parseH264Payload(p: Buffer): H264Content {
  if (p.length === 0) return { kind: 'none' };
  const type = p[0]! & 0x1f;
  if (type >= 1 && type <= 23) return { kind: 'nals', nalus: [p] };
  switch (type) {
    case H264PacketType.StapA: {
      // §5.7.1: 16-bit NAL unit size, then the NAL unit; repeated to the end of the payload.
      const nalus: Buffer[] = [];
      let pos = 1;
      while (pos < p.length) {
        if (pos + 2 > p.length) throw new ProtocolError(RtpErrorCode.BadAggregate, 'STAP-A size truncated');
        const size = p.readUInt16BE(pos);
        pos += 2;
        if (size === 0 || pos + size > p.length) {
          throw new ProtocolError(RtpErrorCode.BadAggregate, `STAP-A NAL unit of ${size} bytes at ${pos}`);
        }
        nalus.push(p.subarray(pos, pos + size));
        pos += size;
      }
      return { kind: 'nals', nalus };
    }
    case H264PacketType.FuA: {
      // §5.8: FU indicator (F, NRI), FU header (S, E, R, type); the NAL header is rebuilt.
      if (p.length < 2) throw new ProtocolError(RtpErrorCode.BadFragment, 'FU-A without FU header');
      const fu = p[1]!;
      const start = (fu & 0x80) !== 0;
      const header = start ? Buffer.of((p[0]! & 0xe0) | (fu & 0x1f)) : null;
      return { kind: 'fu', header, data: p.subarray(2), end: (fu & 0x40) !== 0 };
    }
    case H264PacketType.StapB:
    case H264PacketType.Mtap16:
    case H264PacketType.Mtap24:
    case H264PacketType.FuB:
      // Interleaved mode (§6.4) only; never negotiated by the SDP we accept.
      throw new ProtocolError(
        RtpErrorCode.UnsupportedPayload,
        `H.264 RTP packet type ${type} (interleaved mode)`,
      );
    default:
      // 0, 30, 31: reserved / undefined, ignored (§5.2).
      return { kind: 'none' };
  }
}
