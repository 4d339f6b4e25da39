import { ByteReader } from '../../bytes/byte-reader.ts';
import { ByteWriter } from '../../bytes/byte-writer.ts';
import { ProtocolError } from '../../errors/protocol-error.ts';
import type { NalLengthSize } from '../annexb.ts';
import { CodecErrorCode, withCode } from '../errors.ts';
import { H265Nal } from './nal.ts';
import { parseH265Sps } from './sps.ts';

/** HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1), the hvcC box / Enhanced RTMP sequence start. */
export interface HevcConfig {
  generalProfileSpace: number;
  generalTierFlag: number;
  generalProfileIdc: number;
  generalProfileCompatibilityFlags: number;
  /** 6 bytes. */
  generalConstraintIndicatorFlags: Buffer;
  generalLevelIdc: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** numTemporalLayers and temporalIdNested from the record. */
  numTemporalLayers: number;
  temporalIdNested: boolean;
  nalLengthSize: NalLengthSize;
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
  /** Prefix and suffix SEI arrays, in record order. */
  sei: Buffer[];
}

/** Bytes before numOfArrays. */
const FIXED_HEADER_SIZE = 22;

function bad(message: string): ProtocolError {
  return new ProtocolError(CodecErrorCode.BadHvcc, `HEVCDecoderConfigurationRecord: ${message}`);
}

/** Parses an hvcC record. Raises ProtocolError 'CODEC_BAD_HVCC' on version != 1, no SPS or truncation. */
export function parseHevcConfig(buf: Buffer): HevcConfig {
  return withCode(CodecErrorCode.BadHvcc, 'HEVCDecoderConfigurationRecord', () => {
    const r = new ByteReader(buf);
    r.need(FIXED_HEADER_SIZE + 1, 'fixed header');
    const version = r.u8('configurationVersion');
    if (version !== 1) throw bad(`configurationVersion ${version}, expected 1`);
    const b1 = r.u8();
    const generalProfileCompatibilityFlags = r.u32be();
    const generalConstraintIndicatorFlags = r.bytes(6);
    const generalLevelIdc = r.u8();
    r.skip(2, 'min_spatial_segmentation_idc');
    r.skip(1, 'parallelismType');
    const chromaFormatIdc = r.u8() & 0x03;
    const bitDepthLuma = (r.u8() & 0x07) + 8;
    const bitDepthChroma = (r.u8() & 0x07) + 8;
    r.skip(2, 'avgFrameRate');
    const b21 = r.u8();
    const lengthSizeMinusOne = b21 & 0x03;
    if (lengthSizeMinusOne === 2) throw bad('lengthSizeMinusOne 2 (3-byte lengths) is not allowed');
    const config: HevcConfig = {
      generalProfileSpace: b1 >>> 6,
      generalTierFlag: (b1 >>> 5) & 1,
      generalProfileIdc: b1 & 0x1f,
      generalProfileCompatibilityFlags,
      generalConstraintIndicatorFlags,
      generalLevelIdc,
      chromaFormatIdc,
      bitDepthLuma,
      bitDepthChroma,
      numTemporalLayers: (b21 >>> 3) & 0x07,
      temporalIdNested: ((b21 >>> 2) & 1) === 1,
      nalLengthSize: (lengthSizeMinusOne + 1) as NalLengthSize,
      vps: [],
      sps: [],
      pps: [],
      sei: [],
    };
    const numArrays = r.u8('numOfArrays');
    for (let i = 0; i < numArrays; i++) {
      const type = r.u8('NAL_unit_type') & 0x3f;
      const count = r.u16be('numNalus');
      const list = listFor(config, type);
      for (let j = 0; j < count; j++) {
        const nalu = r.bytes(r.u16be('nalUnitLength'), 'nalUnit');
        list?.push(nalu);
      }
    }
    if (config.sps.length === 0) throw bad('no SPS');
    return config;
  });
}

/** The config list an array of this NAL type belongs to; other types are skipped. */
function listFor(c: HevcConfig, type: number): Buffer[] | undefined {
  switch (type) {
    case H265Nal.Vps:
      return c.vps;
    case H265Nal.Sps:
      return c.sps;
    case H265Nal.Pps:
      return c.pps;
    case H265Nal.PrefixSei:
    case H265Nal.SuffixSei:
      return c.sei;
    default:
      return undefined;
  }
}

/**
 * Builds an hvcC record with 4-byte NAL lengths. Profile, tier, level, chroma format, bit
 * depths and temporal layering come from the first SPS. array_completeness is 1: the
 * record holds every parameter set the stream uses, as 'hvc1' requires.
 */
export function buildHevcConfig(vps: Buffer[], sps: Buffer[], pps: Buffer[]): Buffer {
  const first = sps[0];
  if (first === undefined) throw bad('need at least one SPS');
  const s = parseH265Sps(first);
  const arrays = [
    { type: H265Nal.Vps, nalus: vps },
    { type: H265Nal.Sps, nalus: sps },
    { type: H265Nal.Pps, nalus: pps },
  ].filter((a) => a.nalus.length > 0);
  const w = new ByteWriter(64 + [...vps, ...sps, ...pps].reduce((n, b) => n + 2 + b.length, 0));
  w.u8(1);
  w.u8((s.generalProfileSpace << 6) | (s.generalTierFlag << 5) | s.generalProfileIdc);
  w.u32be(s.generalProfileCompatibilityFlags);
  w.bytes(s.generalConstraintIndicatorFlags);
  w.u8(s.generalLevelIdc);
  w.u16be(0xf000); // reserved '1111', min_spatial_segmentation_idc 0 (unknown)
  w.u8(0xfc); // reserved '111111', parallelismType 0 (unknown)
  w.u8(0xfc | s.chromaFormatIdc);
  w.u8(0xf8 | (s.bitDepthLuma - 8));
  w.u8(0xf8 | (s.bitDepthChroma - 8));
  w.u16be(0); // avgFrameRate unspecified
  // constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3
  w.u8((s.maxSubLayers << 3) | (s.temporalIdNesting ? 0x04 : 0) | 0x03);
  w.u8(arrays.length);
  for (const a of arrays) {
    if (a.nalus.length > 0xffff)
      throw bad(`${a.nalus.length} NAL units of type ${a.type}, at most 65535 fit`);
    w.u8(0x80 | a.type).u16be(a.nalus.length);
    for (const n of a.nalus) {
      if (n.length > 0xffff) throw bad(`parameter set of ${n.length} bytes does not fit a 16-bit length`);
      w.u16be(n.length).bytes(n);
    }
  }
  return w.toBuffer();
}
