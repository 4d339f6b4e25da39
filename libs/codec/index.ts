export { CodecErrorCode } from './errors.ts';
export { removeEmulationPrevention, addEmulationPrevention } from './emulation-prevention.ts';
export {
  splitAnnexB,
  nalusToAnnexB,
  splitLengthPrefixed,
  nalusToLengthPrefixed,
  annexBToLengthPrefixed,
  lengthPrefixedToAnnexB,
} from './annexb.ts';
export type { NalLengthSize } from './annexb.ts';
export { H264Nal, h264NalType } from './h264/nal.ts';
export { parseAvcConfig, buildAvcConfig } from './h264/avc-config.ts';
export type { AvcConfig } from './h264/avc-config.ts';
export { parseH264Sps } from './h264/sps.ts';
export type { H264Sps } from './h264/sps.ts';
export { H265Nal, h265NalType, isH265Irap } from './h265/nal.ts';
export { parseHevcConfig, buildHevcConfig } from './h265/hevc-config.ts';
export type { HevcConfig } from './h265/hevc-config.ts';
export { parseH265Sps } from './h265/sps.ts';
export type { H265Sps } from './h265/sps.ts';
export type { H265ProfileTierLevel } from './h265/profile-tier-level.ts';
export {
  AAC_SAMPLE_RATES,
  AacObjectType,
  parseAudioSpecificConfig,
  buildAudioSpecificConfig,
} from './aac/asc.ts';
export type { AudioSpecificConfig } from './aac/asc.ts';
export { parseAdtsFrames, buildAdtsHeader } from './aac/adts.ts';
export type { AdtsFrame } from './aac/adts.ts';
