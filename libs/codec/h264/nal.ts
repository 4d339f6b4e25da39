import { ProtocolError } from '../../errors/protocol-error.ts';
import { CodecErrorCode } from '../errors.ts';

/** H.264 nal_unit_type values (Table 7-1). */
export const H264Nal = {
  NonIdr: 1,
  PartitionA: 2,
  PartitionB: 3,
  PartitionC: 4,
  Idr: 5,
  Sei: 6,
  Sps: 7,
  Pps: 8,
  Aud: 9,
  EndOfSequence: 10,
  EndOfStream: 11,
  Filler: 12,
  SpsExt: 13,
  Prefix: 14,
  SubsetSps: 15,
  Dps: 16,
  AuxSlice: 19,
  SliceExt: 20,
  SliceExtDepth: 21,
} as const;
export type H264Nal = (typeof H264Nal)[keyof typeof H264Nal];

/** nal_unit_type from the 1-byte NAL unit header (§7.3.1). */
export function h264NalType(nalu: Uint8Array): number {
  if (nalu.length < 1) throw new ProtocolError(CodecErrorCode.BadNaluHeader, 'empty H.264 NAL unit');
  return nalu[0]! & 0x1f;
}
