import { BitReader } from '../bytes/index.ts';
import { ProtocolError } from '../errors/protocol-error.ts';
import type { AccessUnit } from './access-unit.ts';
import { AAC_SAMPLES_PER_AU } from './aac-packetizer.ts';
import { RtpErrorCode } from './errors.ts';
import type { RtpPacket } from './packet.ts';

/** An AAC frame is at most 6144 bits per channel; this leaves room for 48 channels. */
export const MAX_AAC_AU_BYTES = 256 * 1024;
/** The SDP parameters come from the network too: field widths beyond 32 bits are refused. */
const MAX_FIELD_BITS = 32;

export interface AacDepacketizerOptions {
  /** SDP fmtp sizelength / indexlength / indexdeltalength (RFC 3640 §4.1). */
  sizeLength: number;
  indexLength: number;
  indexDeltaLength: number;
  /** RTP ticks per AU (1024 samples, 960 for the 960-sample framing). */
  samplesPerAu?: number;
}

/**
 * mpeg4-generic AAC depacketizer (RFC 3640 §3.2, AAC-hbr and AAC-lbr): AU-headers with sizes
 * only (no CTS/DTS/RAP fields, no auxiliary section), several AUs per packet, or one AU
 * fragmented over packets of one timestamp. Every AU is a key frame; a loss drops only the AU
 * being reassembled. AU index fields are read and ignored (no interleaving).
 */
export class AacDepacketizer {
  droppedUnits = 0;
  private readonly sizeLength: number;
  private readonly indexLength: number;
  private readonly indexDeltaLength: number;
  private readonly samplesPerAu: number;
  private expectedSeq: number | null = null;
  private frag: { ts: number; buf: Buffer; filled: number } | null = null;
  /** Timestamp of an AU dropped mid-reassembly: its remaining fragments are skipped, not counted again. */
  private droppedTs: number | null = null;

  constructor(o: AacDepacketizerOptions) {
    const ok = (n: number, min: number): boolean => Number.isInteger(n) && n >= min && n <= MAX_FIELD_BITS;
    if (!ok(o.sizeLength, 1) || !ok(o.indexLength, 0) || !ok(o.indexDeltaLength, 0)) {
      throw new ProtocolError(
        RtpErrorCode.BadAacConfig,
        `AAC sizelength ${o.sizeLength}, indexlength ${o.indexLength}, indexdeltalength ${o.indexDeltaLength}`,
      );
    }
    this.sizeLength = o.sizeLength;
    this.indexLength = o.indexLength;
    this.indexDeltaLength = o.indexDeltaLength;
    this.samplesPerAu = o.samplesPerAu ?? AAC_SAMPLES_PER_AU;
  }

  push(pkt: RtpPacket): AccessUnit[] {
    // Parsed before any state changes: a bad packet raises and is simply missing afterwards.
    const { sizes, data } = this.parse(pkt.payload);
    if (this.expectedSeq !== null && pkt.sequenceNumber !== this.expectedSeq) this.lost();
    this.expectedSeq = (pkt.sequenceNumber + 1) & 0xffff;
    const out: AccessUnit[] = [];
    const f = this.frag;
    if (f) {
      if (f.ts === pkt.timestamp && sizes.length === 1 && sizes[0] === f.buf.length) {
        this.continueFragment(f, data, pkt.marker, out);
        return out;
      }
      // Anything else means the rest of the fragmented AU is gone.
      this.lost();
    }
    if (sizes.length === 1 && sizes[0]! > data.length) {
      // §3.2.3: a fragment's AU-header carries the whole AU's size.
      const total = sizes[0]!;
      if (pkt.timestamp === this.droppedTs) return out;
      if (total > MAX_AAC_AU_BYTES) {
        throw new ProtocolError(RtpErrorCode.FrameTooLarge, `AAC AU of ${total} bytes > ${MAX_AAC_AU_BYTES}`);
      }
      if (pkt.marker) {
        this.droppedUnits++; // a last fragment without the others
        this.droppedTs = pkt.timestamp;
        return out;
      }
      const buf = Buffer.allocUnsafe(total);
      data.copy(buf, 0);
      this.frag = { ts: pkt.timestamp, buf, filled: data.length };
      return out;
    }
    this.droppedTs = null;
    let pos = 0;
    sizes.forEach((size, i) => {
      if (size === 0) return;
      const unit = data.subarray(pos, pos + size);
      pos += size;
      out.push({
        rtpTimestamp: (pkt.timestamp + i * this.samplesPerAu) >>> 0,
        units: [unit],
        keyFrame: true,
      });
    });
    return out;
  }

  /** A gap: the AU being reassembled (if any) is dropped. Whole AUs never wait for anything. */
  lost(): void {
    if (this.frag) {
      this.droppedTs = this.frag.ts;
      this.frag = null;
      this.droppedUnits++;
    }
  }

  private continueFragment(
    f: { ts: number; buf: Buffer; filled: number },
    data: Buffer,
    marker: boolean,
    out: AccessUnit[],
  ): void {
    if (f.filled + data.length > f.buf.length) {
      this.lost();
      throw new ProtocolError(RtpErrorCode.BadFragment, `AAC fragments exceed the AU size ${f.buf.length}`);
    }
    data.copy(f.buf, f.filled);
    f.filled += data.length;
    if (f.filled === f.buf.length) {
      this.frag = null;
      out.push({ rtpTimestamp: f.ts, units: [f.buf], keyFrame: true });
    } else if (marker) {
      this.lost(); // the last fragment arrived, some bytes did not
    }
  }

  /** §3.2.1: AU-headers-length (bits), the AU-headers, padding to a byte, then the AUs. */
  private parse(p: Buffer): { sizes: number[]; data: Buffer } {
    if (p.length < 2)
      throw new ProtocolError(RtpErrorCode.BadAacHeaders, 'AAC payload without AU-headers-length');
    const headerBits = p.readUInt16BE(0);
    const headerBytes = Math.ceil(headerBits / 8);
    if (2 + headerBytes > p.length) {
      throw new ProtocolError(
        RtpErrorCode.BadAacHeaders,
        `AU-headers of ${headerBits} bits in ${p.length} bytes`,
      );
    }
    const bits = new BitReader(p.subarray(2, 2 + headerBytes));
    const sizes: number[] = [];
    let left = headerBits;
    while (left > 0) {
      const indexBits = sizes.length === 0 ? this.indexLength : this.indexDeltaLength;
      if (left < this.sizeLength + indexBits) {
        throw new ProtocolError(
          RtpErrorCode.BadAacHeaders,
          `AU-headers-length ${headerBits} leaves ${left} bits`,
        );
      }
      sizes.push(bits.bits(this.sizeLength, 'AU-size'));
      bits.skip(indexBits, 'AU-index');
      left -= this.sizeLength + indexBits;
    }
    const data = p.subarray(2 + headerBytes);
    // One AU bigger than the data is a fragment; otherwise the AUs must all be present.
    if (sizes.length !== 1) {
      let total = 0;
      for (const s of sizes) total += s;
      if (total > data.length) {
        throw new ProtocolError(RtpErrorCode.BadAacHeaders, `AU sizes ${total} > ${data.length} data bytes`);
      }
    }
    return { sizes, data };
  }
}
