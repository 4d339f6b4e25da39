export { encodeFlvHeader, parseFlvHeader, FLV_HEADER_SIZE } from './header.ts';
export type { FlvHeader } from './header.ts';
export { TagType, TAG_HEADER_SIZE, MAX_TAG_DATA_SIZE, encodeFlvTag } from './tag.ts';
export type { FlvTag } from './tag.ts';
export { FlvReader, DEFAULT_MAX_TAG_SIZE } from './reader.ts';
export {
  VideoCodec,
  VideoFrameType,
  VideoPacketType,
  LegacyVideoCodecId,
  parseVideoTag,
} from './video.ts';
export type { VideoTagInfo, VideoPacketKind } from './video.ts';
export { SoundFormat, AudioPacketType, parseAudioTag } from './audio.ts';
export type { AudioTagInfo, AudioCodec } from './audio.ts';
export { AvMultitrackType } from './enhanced.ts';
export { encodeOnMetaData, parseScriptData } from './metadata.ts';
export type { ScriptData } from './metadata.ts';
