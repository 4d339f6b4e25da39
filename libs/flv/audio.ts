import { ByteReader } from '../bytes/byte-reader.ts';
import { AvMultitrackType, readFourCc, skipModEx } from './enhanced.ts';

/** SoundFormat values we name (FLV spec v10 §E.4.2.1; 9 = ExHeader per Enhanced RTMP v2). */
export const SoundFormat = { Mp3: 2, ExHeader: 9, Aac: 10, Mp3_8k: 14 } as const;

/** Enhanced RTMP AudioPacketType (low nibble of byte 0 when SoundFormat is 9). */
export const AudioPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  MultichannelConfig: 4,
  Multitrack: 5,
  ModEx: 7,
} as const;

export type AudioCodec = 'aac' | 'mp3' | 'opus' | 'other';

export interface AudioTagInfo {
  soundFormat: number;
  /** Legacy header bits; 0 for enhanced headers, where these bits hold the packet type. */
  soundRate: number;
  soundSize: number;
  soundType: number;
  codec: AudioCodec;
  /** AAC AudioSpecificConfig (AACPacketType 0) or enhanced SequenceStart (also inside Multitrack). */
  isSequenceHeader: boolean;
  /**
   * Zero-copy view of the payload after the headers: raw AAC frames or the
   * AudioSpecificConfig, MP3 frames, Opus packets or OpusHead, or for Multitrack packets
   * the per-track entries.
   */
  data: Buffer;
  enhanced: boolean;
  /** 'Opus' | 'mp4a' | '.mp3' | 'fLaC' | 'ac-3' | 'ec-3' | ... for enhanced headers, else null. */
  fourCC: string | null;
}

const FOURCC_CODECS: ReadonlyMap<string, AudioCodec> = new Map([
  ['mp4a', 'aac'],
  ['Opus', 'opus'],
  ['.mp3', 'mp3'],
]);

/**
 * Parses the header of an FLV audio tag body / RTMP audio message: legacy
 * (FLV spec v10 §E.4.2.1) or Enhanced RTMP v2 ExAudioTagHeader. Throws ProtocolError
 * (BYTES_TRUNCATED) when the headers are cut short; unknown formats are reported as
 * 'other'.
 */
export function parseAudioTag(body: Buffer): AudioTagInfo {
  const r = new ByteReader(body);
  const b0 = r.u8('audio tag header');
  const soundFormat = b0 >> 4;
  if (soundFormat === SoundFormat.ExHeader) return parseEnhanced(r, b0);
  let codec: AudioCodec = 'other';
  let isSequenceHeader = false;
  if (soundFormat === SoundFormat.Aac) {
    codec = 'aac';
    isSequenceHeader = r.u8('AACPacketType') === 0;
  } else if (soundFormat === SoundFormat.Mp3 || soundFormat === SoundFormat.Mp3_8k) {
    codec = 'mp3';
  }
  return {
    soundFormat,
    soundRate: (b0 >> 2) & 0x03,
    soundSize: (b0 >> 1) & 0x01,
    soundType: b0 & 0x01,
    codec,
    isSequenceHeader,
    data: r.rest(),
    enhanced: false,
    fourCC: null,
  };
}

function parseEnhanced(r: ByteReader, b0: number): AudioTagInfo {
  let packetType = skipModEx(r, b0 & 0x0f);
  let fourCC: string | null = null;
  if (packetType === AudioPacketType.Multitrack) {
    const mt = r.u8('audio multitrack type');
    packetType = mt & 0x0f;
    if (mt >> 4 !== AvMultitrackType.ManyTracksManyCodecs) fourCC = readFourCc(r, 'audio FourCC');
  } else {
    fourCC = readFourCc(r, 'audio FourCC');
  }
  return {
    soundFormat: SoundFormat.ExHeader,
    soundRate: 0,
    soundSize: 0,
    soundType: 0,
    codec: (fourCC !== null && FOURCC_CODECS.get(fourCC)) || 'other',
    isSequenceHeader: packetType === AudioPacketType.SequenceStart,
    data: r.rest(),
    enhanced: true,
    fourCC,
  };
}
