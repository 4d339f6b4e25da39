import { parseAudioSpecificConfig } from '../codec/aac/asc.ts';
import { RtspErrorCode, rtspError } from './errors.ts';
import type { SdpMedia } from './sdp.ts';

/** What a track carries, from its rtpmap and fmtp. */
export type TrackCodec =
  | {
      codec: 'h264';
      payloadType: number;
      clockRate: number;
      sps?: Buffer;
      pps?: Buffer;
      packetizationMode: number;
    }
  | { codec: 'h265'; payloadType: number; clockRate: number; vps?: Buffer; sps?: Buffer; pps?: Buffer }
  | {
      codec: 'aac';
      payloadType: number;
      clockRate: number;
      channels: number;
      /** AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1). */
      config: Buffer;
      sizeLength: number;
      indexLength: number;
      indexDeltaLength: number;
    }
  | { codec: 'unsupported'; payloadType: number; encoding: string };

/** Static payload types (RFC 3551 §6) a camera may use without an rtpmap. */
const STATIC: ReadonlyMap<number, string> = new Map([
  [0, 'PCMU'],
  [3, 'GSM'],
  [8, 'PCMA'],
  [9, 'G722'],
  [10, 'L16'],
  [11, 'L16'],
  [14, 'MPA'],
  [26, 'JPEG'],
  [31, 'H261'],
  [32, 'MPV'],
  [33, 'MP2T'],
  [34, 'H263'],
]);

/**
 * The codec of a media's first payload type. Parameter sets that are missing or do not decode
 * are left out (they also come in-band); an AAC track without a usable config= is
 * 'unsupported' (RFC 3640 makes config mandatory and the stream cannot be described without
 * it). ProtocolError 'RTSP_BAD_FMTP' for AU header lengths out of range.
 */
export function trackCodec(media: SdpMedia): TrackCodec {
  const payloadType = media.payloadTypes[0];
  if (payloadType === undefined) return { codec: 'unsupported', payloadType: -1, encoding: media.protocol };
  const map = media.rtpmap.get(payloadType);
  if (!map) return { codec: 'unsupported', payloadType, encoding: STATIC.get(payloadType) ?? 'unknown' };
  const fmtp = media.fmtp.get(payloadType) ?? new Map<string, string>();
  const encoding = map.encoding.toUpperCase();
  const clockRate = map.clockRate;
  if (encoding === 'H264' && clockRate > 0) return h264(payloadType, clockRate, fmtp);
  if ((encoding === 'H265' || encoding === 'HEVC') && clockRate > 0) {
    const out: TrackCodec = { codec: 'h265', payloadType, clockRate };
    // RFC 7798 §7.1: sprop-vps/sps/pps, base64, possibly comma-separated lists.
    const vps = nal(fmtp.get('sprop-vps'), 32, 'h265');
    const sps = nal(fmtp.get('sprop-sps'), 33, 'h265');
    const pps = nal(fmtp.get('sprop-pps'), 34, 'h265');
    if (vps) out.vps = vps;
    if (sps) out.sps = sps;
    if (pps) out.pps = pps;
    return out;
  }
  if (encoding === 'MPEG4-GENERIC' && clockRate > 0) return aac(payloadType, clockRate, map.channels, fmtp);
  return { codec: 'unsupported', payloadType, encoding: map.encoding };
}

function h264(payloadType: number, clockRate: number, fmtp: Map<string, string>): TrackCodec {
  // RFC 6184 §8.1: packetization-mode defaults to 0 (single NAL unit mode).
  const modeText = fmtp.get('packetization-mode') ?? '0';
  const packetizationMode = /^[0-2]$/.test(modeText) ? Number(modeText) : 0;
  const out: TrackCodec = { codec: 'h264', payloadType, clockRate, packetizationMode };
  // sprop-parameter-sets: base64 NAL units separated by ',' (SPS first in practice, not always).
  for (const part of (fmtp.get('sprop-parameter-sets') ?? '').split(',')) {
    const n = decodeNal(part);
    if (!n) continue;
    const type = n[0]! & 0x1f;
    if (type === 7 && !out.sps) out.sps = n;
    else if (type === 8 && !out.pps) out.pps = n;
  }
  return out;
}

function nal(value: string | undefined, type: number, _codec: 'h265'): Buffer | undefined {
  for (const part of (value ?? '').split(',')) {
    const n = decodeNal(part);
    // H.265 NAL header: forbidden_zero_bit, 6-bit type, ... (ITU-T H.265 §7.3.1.2)
    if (n && n.length >= 2 && ((n[0]! >> 1) & 0x3f) === type) return n;
  }
  return undefined;
}

/** Base64 text to a NAL unit; undefined for empty or non-base64 text or a forbidden_zero_bit. */
function decodeNal(text: string): Buffer | undefined {
  const t = text.trim();
  if (t === '' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return undefined;
  const n = Buffer.from(t, 'base64');
  if (n.length === 0 || (n[0]! & 0x80) !== 0) return undefined;
  return n;
}

/** RFC 3640 §3.3.6/§3.3.5: the AU header lengths each mode fixes. */
const MODE_DEFAULTS: Record<string, [number, number, number]> = {
  'aac-hbr': [13, 3, 3],
  'aac-lbr': [6, 2, 2],
};

function aac(
  payloadType: number,
  clockRate: number,
  channels: number | undefined,
  fmtp: Map<string, string>,
): TrackCodec {
  const configHex = fmtp.get('config') ?? '';
  if (!/^([0-9A-Fa-f]{2}){2,64}$/.test(configHex)) {
    return { codec: 'unsupported', payloadType, encoding: 'MPEG4-GENERIC' };
  }
  const config = Buffer.from(configHex, 'hex');
  const asc = parseAudioSpecificConfig(config); // ProtocolError CODEC_BAD_ASC on garbage
  const defaults = MODE_DEFAULTS[(fmtp.get('mode') ?? '').toLowerCase()] ?? [0, 0, 0];
  const sizeLength = auLength(fmtp.get('sizelength'), defaults[0]);
  const indexLength = auLength(fmtp.get('indexlength'), defaults[1]);
  const indexDeltaLength = auLength(fmtp.get('indexdeltalength'), defaults[2]);
  // Without sizelength AU sizes are unknown and the payload cannot be split (RFC 3640 §3.2.1).
  if (sizeLength === 0) return { codec: 'unsupported', payloadType, encoding: 'MPEG4-GENERIC' };
  return {
    codec: 'aac',
    payloadType,
    clockRate,
    channels: channels ?? (asc.channelConfiguration > 0 ? asc.channelConfiguration : 1),
    config,
    sizeLength,
    indexLength,
    indexDeltaLength,
  };
}

function auLength(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  // An AU header is at most 32 bits of size + index in practice (mediamtx bounds it alike).
  if (!/^\d{1,2}$/.test(text.trim()) || Number(text.trim()) > 32) {
    throw rtspError(RtspErrorCode.BadFmtp, `fmtp AU header length ${JSON.stringify(text.slice(0, 16))}`);
  }
  return Number(text.trim());
}
