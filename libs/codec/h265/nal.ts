import { ProtocolError } from '../../errors/protocol-error.ts';
import { CodecErrorCode } from '../errors.ts';

/** H.265 nal_unit_type values (Table 7-1). */
export const H265Nal = {
  TrailN: 0,
  TrailR: 1,
  TsaN: 2,
  TsaR: 3,
  StsaN: 4,
  StsaR: 5,
  RadlN: 6,
  RadlR: 7,
  RaslN: 8,
  RaslR: 9,
  BlaWLp: 16,
  BlaWRadl: 17,
  BlaNLp: 18,
  IdrWRadl: 19,
  IdrNLp: 20,
  Cra: 21,
  Vps: 32,
  Sps: 33,
  Pps: 34,
  Aud: 35,
  EndOfSequence: 36,
  EndOfBitstream: 37,
  Filler: 38,
  PrefixSei: 39,
  SuffixSei: 40,
} as const;
export type H265Nal = (typeof H265Nal)[keyof typeof H265Nal];

/** nal_unit_type from the 2-byte NAL unit header (§7.3.1.2). */
export function h265NalType(nalu: Uint8Array): number {
  if (nalu.length < 2) {
    throw new ProtocolError(
      CodecErrorCode.BadNaluHeader,
      `H.265 NAL unit of ${nalu.length} bytes has no 2-byte header`,
    );
  }
  return (nalu[0]! >>> 1) & 0x3f;
}

/** IRAP pictures (BLA, IDR, CRA and reserved 22..23, §7.4.2.2): a decoder can start here. */
export function isH265Irap(type: number): boolean {
  return type >= H265Nal.BlaWLp && type <= 23;
}
