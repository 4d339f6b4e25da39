import { BitReader } from '../../bytes/bit-reader.ts';
import { ProtocolError } from '../../errors/protocol-error.ts';
import { removeEmulationPrevention } from '../emulation-prevention.ts';
import { CodecErrorCode, withCode } from '../errors.ts';
import { H264Nal } from './nal.ts';

/** The parts of an H.264 sequence parameter set (§7.3.2.1.1) a server needs. */
export interface H264Sps {
  profileIdc: number;
  /** The whole byte: constraint_set0..5_flag (MSB first) and reserved_zero_2bits. */
  constraintFlags: number;
  levelIdc: number;
  spsId: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  frameMbsOnly: boolean;
  /** Displayed size: the coded macroblock area minus the cropping. */
  width: number;
  height: number;
  /** Frame cropping in luma samples (offsets already multiplied by CropUnitX/CropUnitY). */
  crop: { left: number; right: number; top: number; bottom: number };
  /** Frames per second from VUI timing (time_scale / (2 * num_units_in_tick)), when present. */
  fps?: number;
}

/** Profiles whose SPS carries chroma_format_idc, bit depths and scaling matrices (§7.3.2.1.1). */
const HIGH_PROFILES: ReadonlySet<number> = new Set([
  100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135,
]);

/** SubWidthC/SubHeightC by chroma_format_idc (Table 6-1); 0 is monochrome. */
const SUB_WIDTH_C = [1, 2, 2, 1] as const;
const SUB_HEIGHT_C = [1, 2, 1, 1] as const;

/**
 * Parses an SPS NAL unit (1-byte header included). Raises ProtocolError
 * 'CODEC_BAD_H264_SPS' on a wrong NAL type, truncation or out-of-range values.
 */
export function parseH264Sps(nalu: Buffer): H264Sps {
  return withCode(CodecErrorCode.BadH264Sps, 'H.264 SPS', () => readSps(nalu));
}

function bad(message: string): ProtocolError {
  return new ProtocolError(CodecErrorCode.BadH264Sps, `H.264 SPS: ${message}`);
}

/** Reads ue(v) and checks it against the range the spec allows. */
function ueMax(r: BitReader, max: number, what: string): number {
  const v = r.ue(what);
  if (v > max) throw bad(`${what} ${v} > ${max}`);
  return v;
}

function readSps(nalu: Buffer): H264Sps {
  if (nalu.length < 1 || (nalu[0]! & 0x1f) !== H264Nal.Sps) throw bad('not an SPS NAL unit');
  const r = new BitReader(removeEmulationPrevention(nalu.subarray(1)));
  const profileIdc = r.bits(8, 'profile_idc');
  const constraintFlags = r.bits(8, 'constraint flags');
  const levelIdc = r.bits(8, 'level_idc');
  const spsId = ueMax(r, 31, 'seq_parameter_set_id');

  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = ueMax(r, 3, 'chroma_format_idc');
    if (chromaFormatIdc === 3) separateColourPlane = r.flag('separate_colour_plane_flag');
    bitDepthLuma = 8 + ueMax(r, 6, 'bit_depth_luma_minus8');
    bitDepthChroma = 8 + ueMax(r, 6, 'bit_depth_chroma_minus8');
    r.skip(1, 'qpprime_y_zero_transform_bypass_flag');
    if (r.flag('seq_scaling_matrix_present_flag')) {
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) {
        if (r.flag('seq_scaling_list_present_flag')) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }

  ueMax(r, 12, 'log2_max_frame_num_minus4');
  const pocType = ueMax(r, 2, 'pic_order_cnt_type');
  if (pocType === 0) {
    ueMax(r, 12, 'log2_max_pic_order_cnt_lsb_minus4');
  } else if (pocType === 1) {
    r.skip(1, 'delta_pic_order_always_zero_flag');
    r.se('offset_for_non_ref_pic');
    r.se('offset_for_top_to_bottom_field');
    const cycle = ueMax(r, 255, 'num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.se('offset_for_ref_frame');
  }
  r.ue('max_num_ref_frames');
  r.skip(1, 'gaps_in_frame_num_value_allowed_flag');
  const widthMbs = r.ue('pic_width_in_mbs_minus1') + 1;
  const heightMapUnits = r.ue('pic_height_in_map_units_minus1') + 1;
  const frameMbsOnly = r.flag('frame_mbs_only_flag');
  if (!frameMbsOnly) r.skip(1, 'mb_adaptive_frame_field_flag');
  r.skip(1, 'direct_8x8_inference_flag');

  // §7.4.2.1.1: a field-coded stream counts height in pairs of macroblock rows.
  const fieldFactor = frameMbsOnly ? 1 : 2;
  const codedWidth = widthMbs * 16;
  const codedHeight = fieldFactor * heightMapUnits * 16;
  const crop = { left: 0, right: 0, top: 0, bottom: 0 };
  if (r.flag('frame_cropping_flag')) {
    // CropUnitX/Y (7-19..7-22): ChromaArrayType 0 (monochrome or separate planes) crops in luma samples.
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const unitX = SUB_WIDTH_C[chromaArrayType]!;
    const unitY = SUB_HEIGHT_C[chromaArrayType]! * fieldFactor;
    crop.left = r.ue('frame_crop_left_offset') * unitX;
    crop.right = r.ue('frame_crop_right_offset') * unitX;
    crop.top = r.ue('frame_crop_top_offset') * unitY;
    crop.bottom = r.ue('frame_crop_bottom_offset') * unitY;
  }
  const width = codedWidth - crop.left - crop.right;
  const height = codedHeight - crop.top - crop.bottom;
  if (width <= 0 || height <= 0)
    throw bad(`cropping leaves ${width}x${height} of ${codedWidth}x${codedHeight}`);

  const sps: H264Sps = {
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    frameMbsOnly,
    width,
    height,
    crop,
  };
  if (r.flag('vui_parameters_present_flag')) {
    const fps = readVuiFps(r);
    if (fps !== undefined) sps.fps = fps;
  }
  return sps;
}

/**
 * scaling_list() (§7.3.2.1.1.1): only the bits matter here. A delta that makes nextScale 0
 * means "use the default matrix" and ends the list.
 */
function skipScalingList(r: BitReader, size: number): void {
  let lastScale = 8;
  let nextScale = 8;
  for (let j = 0; j < size; j++) {
    if (nextScale !== 0) {
      const delta = r.se('delta_scale');
      if (delta < -128 || delta > 127) throw bad(`delta_scale ${delta} out of range`);
      nextScale = (lastScale + delta + 256) % 256;
    }
    if (nextScale !== 0) lastScale = nextScale;
  }
}

/**
 * VUI (Annex E.1.1) up to timing_info. The picture size is already known, so a VUI cut
 * short (seen from some encoders) costs only the frame rate, not the whole SPS.
 */
function readVuiFps(r: BitReader): number | undefined {
  try {
    if (r.flag('aspect_ratio_info_present_flag')) {
      const EXTENDED_SAR = 255;
      if (r.bits(8, 'aspect_ratio_idc') === EXTENDED_SAR) r.skip(32, 'sar_width/sar_height');
    }
    if (r.flag('overscan_info_present_flag')) r.skip(1, 'overscan_appropriate_flag');
    if (r.flag('video_signal_type_present_flag')) {
      r.skip(4, 'video_format/video_full_range_flag');
      if (r.flag('colour_description_present_flag')) r.skip(24, 'colour description');
    }
    if (r.flag('chroma_loc_info_present_flag')) {
      r.ue('chroma_sample_loc_type_top_field');
      r.ue('chroma_sample_loc_type_bottom_field');
    }
    if (!r.flag('timing_info_present_flag')) return undefined;
    const numUnitsInTick = r.bits(32, 'num_units_in_tick');
    const timeScale = r.bits(32, 'time_scale');
    if (numUnitsInTick === 0 || timeScale === 0) return undefined;
    // One frame is two ticks (E.2.1: a tick is a field period).
    return timeScale / (2 * numUnitsInTick);
  } catch (e) {
    if (e instanceof ProtocolError) return undefined;
    throw e;
  }
}
