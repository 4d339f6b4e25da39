import { ProtocolError } from '../errors/protocol-error.ts';
import { isH265Irap } from '../codec/index.ts';
import { NalAuAssembler } from './access-unit.ts';
import type { AccessUnit } from './access-unit.ts';
import { RtpErrorCode } from './errors.ts';
import { H265PacketType } from './h265-packetizer.ts';
import type { RtpPacket } from './packet.ts';

type H265Content =
  | { kind: 'nals'; nalus: Buffer[] }
  | { kind: 'fu'; header: Buffer | null; data: Buffer; end: boolean }
  | { kind: 'none' };

/**
 * H.265 RTP depacketizer (RFC 7798) without DONL (sprop-max-don-diff 0, the only mode servers
 * and cameras use): single NAL unit packets, AP, FU. Same access unit and loss rules as H.264.
 */
export class H265Depacketizer {
  private readonly au = new NalAuAssembler((n) => isH265Irap((n[0]! >>> 1) & 0x3f));

  get droppedUnits(): number {
    return this.au.droppedUnits;
  }

  push(pkt: RtpPacket): AccessUnit[] {
    const content = parseH265Payload(pkt.payload);
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

function parseH265Payload(p: Buffer): H265Content {
  if (p.length === 0) return { kind: 'none' };
  if (p.length < 2)
    throw new ProtocolError(RtpErrorCode.Truncated, 'H.265 RTP payload without a 2-byte header');
  const type = (p[0]! >>> 1) & 0x3f;
  if (type < H265PacketType.Ap) return { kind: 'nals', nalus: [p] };
  switch (type) {
    case H265PacketType.Ap: {
      // §4.4.2 without DONL: 16-bit NALU size, then the NAL unit; repeated.
      const nalus: Buffer[] = [];
      let pos = 2;
      while (pos < p.length) {
        if (pos + 2 > p.length) throw new ProtocolError(RtpErrorCode.BadAggregate, 'AP size truncated');
        const size = p.readUInt16BE(pos);
        pos += 2;
        if (size < 2 || pos + size > p.length) {
          throw new ProtocolError(RtpErrorCode.BadAggregate, `AP NAL unit of ${size} bytes at ${pos}`);
        }
        nalus.push(p.subarray(pos, pos + size));
        pos += size;
      }
      return { kind: 'nals', nalus };
    }
    case H265PacketType.Fu: {
      // §4.4.3: payload header (type 49), FU header (S, E, FuType); the NAL header is rebuilt.
      if (p.length < 3) throw new ProtocolError(RtpErrorCode.BadFragment, 'FU without FU header');
      const fu = p[2]!;
      const start = (fu & 0x80) !== 0;
      const header = start ? Buffer.of((p[0]! & 0x81) | ((fu & 0x3f) << 1), p[1]!) : null;
      return { kind: 'fu', header, data: p.subarray(3), end: (fu & 0x40) !== 0 };
    }
    case H265PacketType.Paci:
      throw new ProtocolError(RtpErrorCode.UnsupportedPayload, 'H.265 PACI packets are not supported');
    default:
      // 51..63: reserved, ignored (§4.4).
      return { kind: 'none' };
  }
}
