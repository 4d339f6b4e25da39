import { nalusToLengthPrefixed } from '../../../libs/codec/annexb.ts';
import { buildAvcConfig } from '../../../libs/codec/h264/avc-config.ts';
import { buildHevcConfig } from '../../../libs/codec/h265/hevc-config.ts';
import { MediaKind, type IncomingFrame } from '../../../libs/stream/index.ts';

/** Composition times fit FLV's SI24; anything beyond is a broken timeline, clamped. */
export const MAX_COMPOSITION_MS = 0x7fffff;

/**
 * Access units from RTP (NAL units, raw AAC frames) as the stream's FLV-shaped frames: a
 * sequence header whenever the parameter sets change, then coded frames. H.264 uses the legacy
 * FLV header (codec 7); H.265 uses Enhanced RTMP ('hvc1'), what current players expect.
 */

const H264 = { Idr: 5, Sps: 7, Pps: 8, Aud: 9 } as const;
const H265 = { Vps: 32, Sps: 33, Pps: 34, Aud: 35 } as const;

const sameList = (a: readonly Buffer[], b: readonly Buffer[]): boolean =>
  a.length === b.length && a.every((x, i) => x.equals(b[i]!));

export class VideoFrameBuilder {
  readonly codec: 'h264' | 'h265';
  private vps: Buffer[];
  private sps: Buffer[];
  private pps: Buffer[];
  /** The parameter sets the last sequence header was built from (null: none sent yet). */
  private sent: { vps: Buffer[]; sps: Buffer[]; pps: Buffer[] } | null = null;

  constructor(codec: 'h264' | 'h265', params: { vps?: Buffer; sps?: Buffer; pps?: Buffer }) {
    this.codec = codec;
    this.vps = params.vps ? [params.vps] : [];
    this.sps = params.sps ? [params.sps] : [];
    this.pps = params.pps ? [params.pps] : [];
  }

  /** A VCL NAL unit (a slice): H.264 types 1-5, H.265 types 0-31. */
  private isPicture(n: Buffer): boolean {
    const t = this.typeOf(n);
    return this.codec === 'h264' ? t >= 1 && t <= 5 : t <= 31;
  }

  private typeOf(n: Buffer): number {
    return this.codec === 'h264' ? n[0]! & 0x1f : (n[0]! >> 1) & 0x3f;
  }

  /**
   * Frames for one access unit at `timestampMs`: a sequence header first when the parameter
   * sets are new, nothing until SPS and PPS are known. Throws ProtocolError on parameter sets
   * that cannot form a configuration record.
   */
  frames(
    nalus: readonly Buffer[],
    timestampMs: number,
    keyFrame: boolean,
    compositionMs = 0,
  ): IncomingFrame[] {
    const body: Buffer[] = [];
    const vps: Buffer[] = [];
    const sps: Buffer[] = [];
    const pps: Buffer[] = [];
    const t = this.codec === 'h264' ? H264 : H265;
    for (const n of nalus) {
      if (n.length === 0) continue;
      const type = this.typeOf(n);
      if (type === t.Aud) continue;
      if (this.codec === 'h265' && type === H265.Vps) vps.push(n);
      else if (type === t.Sps) sps.push(n);
      else if (type === t.Pps) pps.push(n);
      body.push(n);
    }
    if (vps.length) this.vps = vps;
    if (sps.length) this.sps = sps;
    if (pps.length) this.pps = pps;
    const out: IncomingFrame[] = [];
    if (this.sps.length === 0 || this.pps.length === 0 || (this.codec === 'h265' && this.vps.length === 0))
      return out;
    const s = this.sent;
    if (!s || !sameList(s.sps, this.sps) || !sameList(s.pps, this.pps) || !sameList(s.vps, this.vps)) {
      const record =
        this.codec === 'h264'
          ? buildAvcConfig(this.sps, this.pps)
          : buildHevcConfig(this.vps, this.sps, this.pps);
      this.sent = { vps: this.vps, sps: this.sps, pps: this.pps };
      out.push({
        kind: MediaKind.Video,
        timestampMs,
        payload: Buffer.concat([this.header(true, 0, 0), record]),
        isKeyFrame: false,
        isSequenceHeader: true,
      });
    }
    // Parameter sets (or SEI) on their own, as some cameras send them: the header, no frame.
    if (!body.some((n) => this.isPicture(n))) return out;
    out.push({
      kind: MediaKind.Video,
      timestampMs,
      payload: Buffer.concat([this.header(keyFrame, 1, compositionMs), nalusToLengthPrefixed(body, 4)]),
      isKeyFrame: keyFrame,
      isSequenceHeader: false,
    });
    return out;
  }

  /** FLV video header with the composition time (presentation minus decode time, SI24). */
  private header(key: boolean, packetType: 0 | 1, compositionMs: number): Buffer {
    const frameType = key ? 1 : 2;
    if (this.codec === 'h264') {
      const h = Buffer.from([(frameType << 4) | 7, packetType, 0, 0, 0]);
      h.writeIntBE(compositionMs, 2, 3);
      return h;
    }
    const h = Buffer.from([0x80 | (frameType << 4) | packetType, 0x68, 0x76, 0x63, 0x31, 0, 0, 0]);
    if (packetType === 0) return h.subarray(0, 5);
    h.writeIntBE(compositionMs, 5, 3);
    return h;
  }
}

/** AAC frames: AudioSpecificConfig as the sequence header, then raw frames (FLV SoundFormat 10). */
export class AudioFrameBuilder {
  private readonly config: Buffer;
  private sentConfig = false;

  constructor(config: Buffer) {
    this.config = config;
  }

  frames(au: Buffer, timestampMs: number): IncomingFrame[] {
    const out: IncomingFrame[] = [];
    if (!this.sentConfig) {
      this.sentConfig = true;
      out.push({
        kind: MediaKind.Audio,
        timestampMs,
        payload: Buffer.concat([AAC_HEADER_CONFIG, this.config]),
        isKeyFrame: false,
        isSequenceHeader: true,
      });
    }
    out.push({
      kind: MediaKind.Audio,
      timestampMs,
      payload: Buffer.concat([AAC_HEADER_RAW, au]),
      isKeyFrame: false,
      isSequenceHeader: false,
    });
    return out;
  }
}

/** SoundFormat 10 (AAC), 44 kHz / 16-bit / stereo flags (FLV says AAC always sets them), AACPacketType. */
const AAC_HEADER_CONFIG = Buffer.from([0xaf, 0]);
const AAC_HEADER_RAW = Buffer.from([0xaf, 1]);
