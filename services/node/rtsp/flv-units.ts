import { splitLengthPrefixed, type NalLengthSize } from '../../../libs/codec/annexb.ts';
import { parseAudioSpecificConfig, type AudioSpecificConfig } from '../../../libs/codec/aac/asc.ts';
import { parseAvcConfig } from '../../../libs/codec/h264/avc-config.ts';
import { parseHevcConfig } from '../../../libs/codec/h265/hevc-config.ts';
import { parseAudioTag, parseVideoTag } from '../../../libs/flv/index.ts';

/**
 * What RTP needs from the stream's FLV-shaped messages: NAL units and composition offsets of
 * video, raw AAC frames of audio, and the codec configuration from the sequence headers.
 */

export type RtpVideoCodec = 'h264' | 'h265';

export interface VideoConfig {
  codec: RtpVideoCodec;
  nalLengthSize: NalLengthSize;
  /** H.265 VPS (empty for H.264). */
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
  /** The record as it came (for SDP building). */
  record: Buffer;
}

export interface AudioConfig {
  asc: AudioSpecificConfig;
  /** The AudioSpecificConfig bytes, for the SDP `config=`. */
  record: Buffer;
  /** RTP clock: the AAC sample rate (RFC 3640 §4.1). */
  clockRate: number;
  channels: number;
}

export type VideoItem =
  | { type: 'config'; config: VideoConfig }
  | { type: 'frame'; codec: RtpVideoCodec; data: Buffer; compositionMs: number; keyFrame: boolean }
  | null;

/** Parses a video message payload (legacy or Enhanced RTMP); null for what RTP does not carry. */
export function videoItem(payload: Buffer): VideoItem {
  const v = parseVideoTag(payload);
  if (v.codec !== 'avc' && v.codec !== 'hevc') return null;
  const codec: RtpVideoCodec = v.codec === 'avc' ? 'h264' : 'h265';
  if (v.isSequenceHeader && v.packetType === 'sequenceStart') {
    if (codec === 'h264') {
      const c = parseAvcConfig(v.data);
      return {
        type: 'config',
        config: { codec, nalLengthSize: c.nalLengthSize, vps: [], sps: c.sps, pps: c.pps, record: v.data },
      };
    }
    const c = parseHevcConfig(v.data);
    return {
      type: 'config',
      config: { codec, nalLengthSize: c.nalLengthSize, vps: c.vps, sps: c.sps, pps: c.pps, record: v.data },
    };
  }
  if (v.packetType !== 'codedFrames') return null;
  return { type: 'frame', codec, data: v.data, compositionMs: v.compositionTimeMs, keyFrame: v.isKeyFrame };
}

/** The NAL units of a frame, without access unit delimiters (RTP marks access units itself). */
export function frameNalus(config: VideoConfig, data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (const n of splitLengthPrefixed(data, config.nalLengthSize)) {
    if (n.length === 0) continue;
    const type = config.codec === 'h264' ? n[0]! & 0x1f : (n[0]! >> 1) & 0x3f;
    if (type === (config.codec === 'h264' ? 9 : 35)) continue;
    out.push(n);
  }
  return out;
}

/** True when the NAL units carry an SPS (a key frame that needs no parameter sets in front). */
export function hasSps(codec: RtpVideoCodec, nalus: readonly Buffer[]): boolean {
  return nalus.some((n) => (codec === 'h264' ? (n[0]! & 0x1f) === 7 : ((n[0]! >> 1) & 0x3f) === 33));
}

export type AudioItem = { type: 'config'; config: AudioConfig } | { type: 'frame'; data: Buffer } | null;

/** Parses an audio message payload; only AAC goes over RTP here. */
export function audioItem(payload: Buffer): AudioItem {
  const a = parseAudioTag(payload);
  if (a.codec !== 'aac') return null;
  if (a.isSequenceHeader) {
    const asc = parseAudioSpecificConfig(a.data);
    return {
      type: 'config',
      config: { asc, record: a.data, clockRate: asc.sampleRate, channels: asc.channelConfiguration || 2 },
    };
  }
  return a.data.length > 0 ? { type: 'frame', data: a.data } : null;
}
