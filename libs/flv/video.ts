import { ByteReader } from '../bytes/byte-reader.ts';
import { AvMultitrackType, readFourCc, skipModEx } from './enhanced.ts';

export const VideoCodec = { Avc: 'avc', Hevc: 'hevc', Av1: 'av1', Vp9: 'vp9', Other: 'other' } as const;
export type VideoCodec = (typeof VideoCodec)[keyof typeof VideoCodec];

/** VideoFrameType, FLV spec v10 §E.4.3.1 (3 bits in enhanced headers, 4 in legacy). */
export const VideoFrameType = { Key: 1, Inter: 2, Disposable: 3, GeneratedKey: 4, Command: 5 } as const;
export type VideoFrameType = (typeof VideoFrameType)[keyof typeof VideoFrameType];

/** Legacy CodecID values we parse: 7 AVC per the FLV spec, 12 HEVC as lal and the ffmpeg-kernel forks use it. */
export const LegacyVideoCodecId = { Avc: 7, Hevc: 12 } as const;

/** Enhanced RTMP VideoPacketType (low nibble of byte 0 when IsExHeader is set). */
export const VideoPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  CodedFramesX: 3,
  Metadata: 4,
  Mpeg2TsSequenceStart: 5,
  Multitrack: 6,
  ModEx: 7,
} as const;

export type VideoPacketKind =
  | 'sequenceStart'
  | 'codedFrames'
  | 'sequenceEnd'
  | 'metadata'
  | 'mpeg2tsSequenceStart'
  | 'multitrack'
  | 'other';

export interface VideoTagInfo {
  /** 1 key, 2 inter, 3 disposable, 4 generated key, 5 info/command. */
  frameType: number;
  /** frameType 1 or 4. */
  isKeyFrame: boolean;
  codec: VideoCodec;
  /** Legacy CodecID (7 AVC, 12 HEVC, ...), or 0 for enhanced headers. */
  codecId: number;
  /** 'avc1' | 'hvc1' | 'av01' | 'vp09' | ... for Enhanced RTMP, null for legacy. */
  fourCC: string | null;
  enhanced: boolean;
  packetType: VideoPacketKind;
  /** Legacy AVCPacketType 0, or enhanced SequenceStart (also inside a Multitrack packet). */
  isSequenceHeader: boolean;
  /** SI24 CTS of legacy NALU packets and of enhanced CodedFrames for avc1/hvc1; else 0. */
  compositionTimeMs: number;
  /**
   * Zero-copy view of the payload after the headers: the AVCC/HVCC/AV1 config record,
   * length-prefixed NALUs or OBUs, the AMF metadata, the one command byte of a command
   * frame, or for Multitrack packets the per-track entries (trackId, size, payload).
   */
  data: Buffer;
}

const FOURCC_CODECS: ReadonlyMap<string, VideoCodec> = new Map([
  ['avc1', VideoCodec.Avc],
  ['hvc1', VideoCodec.Hevc],
  ['av01', VideoCodec.Av1],
  ['vp09', VideoCodec.Vp9],
]);

const EMPTY = Buffer.alloc(0);

const PACKET_KINDS: readonly VideoPacketKind[] = [
  'sequenceStart',
  'codedFrames',
  'sequenceEnd',
  'codedFrames', // CodedFramesX: coded frames with an implicit CTS of 0
  'metadata',
  'mpeg2tsSequenceStart',
  'multitrack',
];

/**
 * Parses the header of an FLV video tag body / RTMP video message: legacy
 * (FLV spec v10 §E.4.3.1) or Enhanced RTMP v2 ExVideoTagHeader. Throws ProtocolError
 * (BYTES_TRUNCATED) when the headers are cut short; unknown codecs and packet types are
 * reported as 'other', not rejected, so the payload can still be relayed.
 */
export function parseVideoTag(body: Buffer): VideoTagInfo {
  const r = new ByteReader(body);
  const b0 = r.u8('video tag header');
  return (b0 & 0x80) !== 0 ? parseEnhanced(r, b0) : parseLegacy(r, b0);
}

function parseLegacy(r: ByteReader, b0: number): VideoTagInfo {
  const frameType = b0 >> 4;
  const codecId = b0 & 0x0f;
  const codec =
    codecId === LegacyVideoCodecId.Avc
      ? VideoCodec.Avc
      : codecId === LegacyVideoCodecId.Hevc
        ? VideoCodec.Hevc
        : VideoCodec.Other;
  const info: VideoTagInfo = {
    frameType,
    isKeyFrame: isKey(frameType),
    codec,
    codecId,
    fourCC: null,
    enhanced: false,
    packetType: 'other',
    isSequenceHeader: false,
    compositionTimeMs: 0,
    data: EMPTY,
  };
  // A command frame carries one command byte instead of a payload (no AVC header).
  if (frameType !== VideoFrameType.Command && codec !== VideoCodec.Other) {
    const avcPacketType = r.u8('AVCPacketType');
    const cts = r.i24be('AVC CompositionTime');
    if (avcPacketType === 0) {
      info.packetType = 'sequenceStart';
      info.isSequenceHeader = true;
    } else if (avcPacketType === 1) {
      info.packetType = 'codedFrames';
      info.compositionTimeMs = cts;
    } else if (avcPacketType === 2) {
      info.packetType = 'sequenceEnd';
    }
  }
  info.data = r.rest();
  return info;
}

function parseEnhanced(r: ByteReader, b0: number): VideoTagInfo {
  const frameType = (b0 >> 4) & 0x07;
  const packetType = skipModEx(r, b0 & 0x0f);
  const info: VideoTagInfo = {
    frameType,
    isKeyFrame: isKey(frameType),
    codec: VideoCodec.Other,
    codecId: 0,
    fourCC: null,
    enhanced: true,
    packetType: 'other',
    isSequenceHeader: false,
    compositionTimeMs: 0,
    data: EMPTY,
  };
  if (frameType === VideoFrameType.Command && packetType !== VideoPacketType.Metadata) {
    // A command frame: one VideoCommand byte, no FourCC and no body.
    info.data = r.bytes(1, 'video command');
    return info;
  }
  if (packetType === VideoPacketType.Multitrack) {
    const mt = r.u8('video multitrack type');
    const innerType = mt & 0x0f;
    if (mt >> 4 !== AvMultitrackType.ManyTracksManyCodecs) setFourCc(info, readFourCc(r, 'video FourCC'));
    info.packetType = 'multitrack';
    // A relay must cache a multitrack SequenceStart like any other sequence header.
    info.isSequenceHeader = innerType === VideoPacketType.SequenceStart;
    info.data = r.rest();
    return info;
  }
  setFourCc(info, readFourCc(r, 'video FourCC'));
  info.packetType = PACKET_KINDS[packetType] ?? 'other';
  info.isSequenceHeader = packetType === VideoPacketType.SequenceStart;
  if (packetType === VideoPacketType.CodedFrames && (info.fourCC === 'avc1' || info.fourCC === 'hvc1')) {
    info.compositionTimeMs = r.i24be('video CompositionTime');
  }
  info.data = r.rest();
  return info;
}

function setFourCc(info: VideoTagInfo, fourCC: string): void {
  info.fourCC = fourCC;
  info.codec = FOURCC_CODECS.get(fourCC) ?? VideoCodec.Other;
}

function isKey(frameType: number): boolean {
  return frameType === VideoFrameType.Key || frameType === VideoFrameType.GeneratedKey;
}
