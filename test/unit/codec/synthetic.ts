import { BitWriter } from '../../../libs/bytes/bit-writer.ts';
import { addEmulationPrevention } from '../../../libs/codec/emulation-prevention.ts';

/**
 * Writers for parameter sets with features ffmpeg's encoders never emit (SPS scaling lists,
 * pic_order_cnt_type 1, separate colour planes, sub-layer profiles). They follow the
 * syntax tables directly; a sample of their output was checked with ffmpeg's trace_headers.
 */

export interface H264SpsFields {
  profileIdc: number;
  constraintFlags?: number;
  levelIdc?: number;
  spsId?: number;
  chromaFormatIdc?: number;
  separateColourPlane?: boolean;
  bitDepthLuma?: number;
  bitDepthChroma?: number;
  /** Per list: null = not present, else the delta_scale values written verbatim. */
  scalingLists?: (number[] | null)[];
  pocType?: 0 | 1 | 2;
  pocCycle?: number[];
  widthMbs: number;
  heightMapUnits: number;
  frameMbsOnly?: boolean;
  /** frame_crop_*_offset as coded (in crop units). */
  crop?: [left: number, right: number, top: number, bottom: number];
  vui?: {
    sar?: [number, number];
    colour?: boolean;
    chromaLoc?: boolean;
    timing?: [numUnitsInTick: number, timeScale: number];
  };
  /** Drop this many bytes from the end of the RBSP. */
  cutBytes?: number;
}

export function writeH264Sps(f: H264SpsFields): Buffer {
  const w = new BitWriter();
  w.bits(8, f.profileIdc)
    .bits(8, f.constraintFlags ?? 0)
    .bits(8, f.levelIdc ?? 30)
    .ue(f.spsId ?? 0);
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(f.profileIdc)) {
    const chroma = f.chromaFormatIdc ?? 1;
    w.ue(chroma);
    if (chroma === 3) w.bit(f.separateColourPlane ?? false);
    w.ue((f.bitDepthLuma ?? 8) - 8).ue((f.bitDepthChroma ?? 8) - 8);
    w.bit(0);
    w.bit(f.scalingLists !== undefined);
    for (const list of f.scalingLists ?? []) {
      w.bit(list !== null);
      for (const d of list ?? []) w.se(d);
    }
  }
  w.ue(0); // log2_max_frame_num_minus4
  const poc = f.pocType ?? 0;
  w.ue(poc);
  if (poc === 0) w.ue(2);
  if (poc === 1) {
    w.bit(0)
      .se(-3)
      .se(5)
      .ue(f.pocCycle?.length ?? 0);
    for (const o of f.pocCycle ?? []) w.se(o);
  }
  w.ue(4)
    .bit(0)
    .ue(f.widthMbs - 1)
    .ue(f.heightMapUnits - 1);
  const frameMbsOnly = f.frameMbsOnly ?? true;
  w.bit(frameMbsOnly);
  if (!frameMbsOnly) w.bit(1);
  w.bit(1);
  w.bit(f.crop !== undefined);
  for (const c of f.crop ?? []) w.ue(c);
  w.bit(f.vui !== undefined);
  if (f.vui) {
    const v = f.vui;
    w.bit(v.sar !== undefined);
    if (v.sar) w.bits(8, 255).bits(16, v.sar[0]).bits(16, v.sar[1]);
    w.bit(1).bit(0); // overscan_info_present, overscan_appropriate
    w.bit(v.colour ?? false);
    if (v.colour) w.bits(3, 5).bit(0).bit(1).bits(8, 1).bits(8, 1).bits(8, 1);
    w.bit(v.chromaLoc ?? false);
    if (v.chromaLoc) w.ue(1).ue(1);
    w.bit(v.timing !== undefined);
    if (v.timing) w.bits(32, v.timing[0]).bits(32, v.timing[1]).bit(1);
    w.bit(0).bit(0).bit(0).bit(0); // nal_hrd, vcl_hrd, pic_struct, bitstream_restriction
  }
  return nalu([0x67], w, f.cutBytes);
}

export interface H265SpsFields {
  maxSubLayersMinus1?: number;
  /** Per sub-layer: [profile present, level present]. */
  subLayers?: [boolean, boolean][];
  profileIdc?: number;
  tierFlag?: number;
  levelIdc?: number;
  chromaFormatIdc?: number;
  separateColourPlane?: boolean;
  width: number;
  height: number;
  /** conf_win_*_offset as coded (in chroma units). */
  window?: [left: number, right: number, top: number, bottom: number];
  bitDepthLuma?: number;
  bitDepthChroma?: number;
}

export function writeH265Sps(f: H265SpsFields): Buffer {
  const w = new BitWriter();
  const subs = f.maxSubLayersMinus1 ?? 0;
  w.bits(4, 0).bits(3, subs).bit(1);
  w.bits(2, 0)
    .bit(f.tierFlag ?? 0)
    .bits(5, f.profileIdc ?? 1);
  w.bits(32, 0x60000000)
    .bits(16, 0x9000)
    .bits(32, 0)
    .bits(8, f.levelIdc ?? 93);
  const layers = f.subLayers ?? [];
  for (let i = 0; i < subs; i++) w.bit(layers[i]?.[0] ?? false).bit(layers[i]?.[1] ?? false);
  if (subs > 0) for (let i = subs; i < 8; i++) w.bits(2, 0);
  for (let i = 0; i < subs; i++) {
    // Distinctive sub-layer values: a parser that fails to skip them reads garbage after.
    if (layers[i]?.[0]) w.bits(8, 0x02).bits(32, 0xdeadbeef).bits(48, 0x900000000000);
    if (layers[i]?.[1]) w.bits(8, 0x5a);
  }
  w.ue(0);
  const chroma = f.chromaFormatIdc ?? 1;
  w.ue(chroma);
  if (chroma === 3) w.bit(f.separateColourPlane ?? false);
  w.ue(f.width).ue(f.height);
  w.bit(f.window !== undefined);
  for (const o of f.window ?? []) w.ue(o);
  w.ue((f.bitDepthLuma ?? 8) - 8).ue((f.bitDepthChroma ?? 8) - 8);
  w.ue(4).bit(0); // log2_max_pic_order_cnt_lsb_minus4, sps_sub_layer_ordering_info_present_flag
  w.ue(4).ue(2).ue(5);
  return nalu([0x42, 0x01], w);
}

function nalu(header: number[], w: BitWriter, cutBytes = 0): Buffer {
  const full = w.toBuffer(true);
  const rbsp = full.subarray(0, full.length - cutBytes);
  return Buffer.concat([Buffer.from(header), addEmulationPrevention(rbsp)]);
}
