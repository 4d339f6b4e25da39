import { nalusToAnnexB, splitLengthPrefixed } from '../codec/annexb.ts';
import type { NalLengthSize } from '../codec/annexb.ts';
import { parseAvcConfig } from '../codec/h264/avc-config.ts';
import { H264Nal } from '../codec/h264/nal.ts';
import { parseHevcConfig } from '../codec/h265/hevc-config.ts';
import { H265Nal } from '../codec/h265/nal.ts';

/**
 * H.264 / H.265 in a transport stream (ISO/IEC 13818-1 §2.14, §2.17): Annex-B byte stream with
 * an access unit delimiter first in every PES, and the parameter sets in band before every
 * random access point, since a TS decoder has no out-of-band configuration record.
 */

export type TsVideoCodec = 'h264' | 'h265';

export interface VideoTrackConfig {
  codec: TsVideoCodec;
  nalLengthSize: NalLengthSize;
  /** VPS/SPS/PPS from the configuration record as Annex B (empty if the record had none). */
  parameterSets: Buffer;
}

/** The elementary stream bytes of one access unit, as views to copy in order. */
export interface AccessUnitChunks {
  chunks: Buffer[];
  length: number;
}

const START_CODE = Buffer.from([0, 0, 0, 1]);
/** H.264 AUD (§7.3.2.4): nal_unit_type 9, primary_pic_type 7 (any slice type), stop bit. */
const H264_AUD = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
/**
 * H.265 AUDs (§7.3.2.5): type 35, layer 0, pic_type 2 (I, P or B), stop bit; one per
 * nuh_temporal_id_plus1 (1..7), since an AUD's TemporalId must be its access unit's (§7.4.2.2).
 */
const H265_AUDS = [1, 2, 3, 4, 5, 6, 7].map((tidPlus1) => Buffer.from([0, 0, 0, 1, 0x46, tidPlus1, 0x50]));

/** Parses an AVCDecoderConfigurationRecord / HEVCDecoderConfigurationRecord (raises ProtocolError). */
export function parseVideoTrackConfig(codec: TsVideoCodec, record: Buffer): VideoTrackConfig {
  if (codec === 'h264') {
    const c = parseAvcConfig(record);
    return { codec, nalLengthSize: c.nalLengthSize, parameterSets: nalusToAnnexB([...c.sps, ...c.pps]) };
  }
  const c = parseHevcConfig(record);
  return {
    codec,
    nalLengthSize: c.nalLengthSize,
    parameterSets: nalusToAnnexB([...c.vps, ...c.sps, ...c.pps]),
  };
}

/** nal_unit_type, or -1 for a NAL unit too short to have a header. */
function nalType(codec: TsVideoCodec, nalu: Buffer): number {
  if (codec === 'h264') return nalu[0]! & 0x1f;
  return nalu.length >= 2 ? (nalu[0]! >>> 1) & 0x3f : -1;
}

/**
 * Converts one AVCC/HVCC sample to Annex B chunks: the sample's AUD or a new one, then the
 * configuration's parameter sets when the sample is a random access point (`keyFrame`, an H.264
 * IDR or an H.265 IRAP) that carries no SPS of its own, then the sample's other NAL units.
 * Raises ProtocolError (CODEC_BAD_NALU_LENGTH) on a malformed sample.
 */
export function accessUnitChunks(
  config: VideoTrackConfig,
  sample: Buffer,
  keyFrame: boolean,
): AccessUnitChunks {
  const { codec } = config;
  const nalus = splitLengthPrefixed(sample, config.nalLengthSize);
  const aud = codec === 'h264' ? H264Nal.Aud : H265Nal.Aud;
  const sps = codec === 'h264' ? H264Nal.Sps : H265Nal.Sps;
  let randomAccess = keyFrame;
  let hasSps = false;
  for (const n of nalus) {
    const t = nalType(codec, n);
    if (t === sps) hasSps = true;
    else if (codec === 'h264' ? t === H264Nal.Idr : t >= H265Nal.BlaWLp && t <= 23) randomAccess = true;
  }
  const chunks: Buffer[] = [];
  let length = 0;
  const push = (b: Buffer): void => {
    chunks.push(b);
    length += b.length;
  };
  const first = nalus[0];
  if (first !== undefined && nalType(codec, first) === aud) {
    push(START_CODE);
    push(first);
  } else if (codec === 'h264') {
    push(H264_AUD);
  } else {
    const tidPlus1 = first !== undefined && first.length >= 2 ? first[1]! & 0x07 : 1;
    push(H265_AUDS[tidPlus1 - 1] ?? H265_AUDS[0]!);
  }
  if (randomAccess && !hasSps && config.parameterSets.length > 0) push(config.parameterSets);
  for (const n of nalus) {
    if (nalType(codec, n) === aud) continue; // the first one is out already; a second is out of place
    push(START_CODE);
    push(n);
  }
  return { chunks, length };
}
