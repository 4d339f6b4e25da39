export { RtpErrorCode } from './errors.ts';
export { parseRtpPacket, writeRtpHeader, RTP_HEADER_BYTES, RTP_VERSION } from './packet.ts';
export type { RtpPacket } from './packet.ts';
export { rtpPayload, payloadBytes } from './payload.ts';
export type { RtpPayload } from './payload.ts';
export { packetizeH264, H264PacketType } from './h264-packetizer.ts';
export { packetizeH265, H265PacketType } from './h265-packetizer.ts';
export { packetizeAac, AAC_HBR, AAC_HBR_MAX_AU_BYTES, AAC_SAMPLES_PER_AU } from './aac-packetizer.ts';
export { RtpTrackOutput } from './track-output.ts';
export type { RtpTrackOutputOptions } from './track-output.ts';
export {
  forEachInterleaved,
  interleavedHeader,
  writeInterleavedHeader,
  INTERLEAVED_MAGIC,
  INTERLEAVED_HEADER_BYTES,
  MAX_INTERLEAVED_PACKET,
} from './interleaved.ts';
export {
  parseRtcp,
  buildSenderReport,
  buildReceiverReport,
  ntpFromUnixMs,
  RtcpType,
  NTP_UNIX_OFFSET_S,
} from './rtcp.ts';
export type { RtcpPacket, RtcpReportBlock } from './rtcp.ts';
export { RtpReorderBuffer, DEFAULT_REORDER_WINDOW } from './reorder.ts';
export type { ReorderResult } from './reorder.ts';
export { MAX_VIDEO_AU_BYTES, MAX_NALS_PER_AU } from './access-unit.ts';
export type { AccessUnit } from './access-unit.ts';
export { H264Depacketizer } from './h264-depacketizer.ts';
export { H265Depacketizer } from './h265-depacketizer.ts';
export { AacDepacketizer, MAX_AAC_AU_BYTES } from './aac-depacketizer.ts';
export type { AacDepacketizerOptions } from './aac-depacketizer.ts';
export { RtpTimeline, msToRtp } from './clock.ts';
export { DtsEstimator, type TimedFrame } from './dts.ts';
