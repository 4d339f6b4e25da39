import { BitReader } from '../../bytes/bit-reader.ts';
import { ProtocolError } from '../../errors/protocol-error.ts';
import { removeEmulationPrevention } from '../emulation-prevention.ts';
import { CodecErrorCode, withCode } from '../errors.ts';
import { H265Nal } from './nal.ts';
import { readProfileTierLevel } from './profile-tier-level.ts';

/** The parts of an H.265 sequence parameter set (§7.3.2.2) a server needs. */
export interface H265Sps {
  /** sps_max_sub_layers_minus1 + 1 and sps_temporal_id_nesting_flag, for the HVCC record. */
  maxSubLayers: number;
  temporalIdNesting: boolean;
  generalProfileSpace: number;
  generalTierFlag: number;
  generalProfileIdc: number;
  /** general_profile_compatibility_flag[0..31] as a 32-bit number, flag 0 in the MSB. */
  generalProfileCompatibilityFlags: number;
  /** The 48 bits from general_progressive_source_flag on, as 6 bytes. */
  generalConstraintIndicatorFlags: Buffer;
  generalLevelIdc: number;
  spsId: number;
  chromaFormatIdc: number;
  /** Displayed size: pic_width/height_in_luma_samples minus the conformance window. */
  width: number;
  height: number;
  /** Conformance window in luma samples (offsets already multiplied by SubWidthC/SubHeightC). */
  conformanceWindow: { left: number; right: number; top: number; bottom: number };
  bitDepthLuma: number;
  bitDepthChroma: number;
}

/** SubWidthC/SubHeightC by ChromaArrayType (Table 6-1); 0 is monochrome or separate planes. */
const SUB_WIDTH_C = [1, 2, 2, 1] as const;
const SUB_HEIGHT_C = [1, 2, 1, 1] as const;

/**
 * Parses an SPS NAL unit (2-byte header included). Raises ProtocolError
 * 'CODEC_BAD_H265_SPS' on a wrong NAL type, truncation or out-of-range values.
 */
export function parseH265Sps(nalu: Buffer): H265Sps {
  return withCode(CodecErrorCode.BadH265Sps, 'H.265 SPS', () => readSps(nalu));
}

function bad(message: string): ProtocolError {
  return new ProtocolError(CodecErrorCode.BadH265Sps, `H.265 SPS: ${message}`);
}

function ueMax(r: BitReader, max: number, what: string): number {
  const v = r.ue(what);
  if (v > max) throw bad(`${what} ${v} > ${max}`);
  return v;
}

function readSps(nalu: Buffer): H265Sps {
  if (nalu.length < 2 || ((nalu[0]! >>> 1) & 0x3f) !== H265Nal.Sps) throw bad('not an SPS NAL unit');
  const r = new BitReader(removeEmulationPrevention(nalu.subarray(2)));
  r.skip(4, 'sps_video_parameter_set_id');
  const maxSubLayersMinus1 = r.bits(3, 'sps_max_sub_layers_minus1');
  if (maxSubLayersMinus1 > 6) throw bad(`sps_max_sub_layers_minus1 ${maxSubLayersMinus1} > 6`);
  const temporalIdNesting = r.flag('sps_temporal_id_nesting_flag');
  const ptl = readProfileTierLevel(r, maxSubLayersMinus1);
  const spsId = ueMax(r, 15, 'sps_seq_parameter_set_id');
  const chromaFormatIdc = ueMax(r, 3, 'chroma_format_idc');
  const separateColourPlane = chromaFormatIdc === 3 && r.flag('separate_colour_plane_flag');
  const codedWidth = r.ue('pic_width_in_luma_samples');
  const codedHeight = r.ue('pic_height_in_luma_samples');
  const conformanceWindow = { left: 0, right: 0, top: 0, bottom: 0 };
  if (r.flag('conformance_window_flag')) {
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const unitX = SUB_WIDTH_C[chromaArrayType]!;
    const unitY = SUB_HEIGHT_C[chromaArrayType]!;
    conformanceWindow.left = r.ue('conf_win_left_offset') * unitX;
    conformanceWindow.right = r.ue('conf_win_right_offset') * unitX;
    conformanceWindow.top = r.ue('conf_win_top_offset') * unitY;
    conformanceWindow.bottom = r.ue('conf_win_bottom_offset') * unitY;
  }
  const bitDepthLuma = 8 + ueMax(r, 8, 'bit_depth_luma_minus8');
  const bitDepthChroma = 8 + ueMax(r, 8, 'bit_depth_chroma_minus8');
  const width = codedWidth - conformanceWindow.left - conformanceWindow.right;
  const height = codedHeight - conformanceWindow.top - conformanceWindow.bottom;
  if (width <= 0 || height <= 0) {
    throw bad(`conformance window leaves ${width}x${height} of ${codedWidth}x${codedHeight}`);
  }
  return {
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
    ...ptl,
    spsId,
    chromaFormatIdc,
    width,
    height,
    conformanceWindow,
    bitDepthLuma,
    bitDepthChroma,
  };
}
