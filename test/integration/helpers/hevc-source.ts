import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  buildHevcConfig,
  H265Nal,
  h265NalType,
  isH265Irap,
  nalusToLengthPrefixed,
  splitAnnexB,
} from '../../../libs/codec/index.ts';

const run = promisify(execFile);

/** libx265 output split into access units, with the parameter sets kept apart. */
export interface HevcSource {
  vps: Buffer;
  sps: Buffer;
  pps: Buffer;
  /** Every NAL unit of a picture but the parameter sets, in decoding order. */
  accessUnits: { nalus: Buffer[]; key: boolean }[];
}

/**
 * `frames` pictures of testsrc2 (320x240, 25 fps) from libx265 as an HEVC elementary stream,
 * written in `dir` and split into access units. ffmpeg 5.1 (Debian 12) cannot put HEVC in FLV,
 * so tests frame these themselves (see `hevcVideoTags`). No B-frames: decoding order is
 * presentation order, so a frame's CTS is 0.
 */
export async function makeHevcSource(dir: string, frames: number): Promise<HevcSource> {
  const raw = join(dir, 'in.h265');
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=25',
    '-frames:v',
    String(frames),
    '-c:v',
    'libx265',
    '-x265-params',
    'log-level=none:keyint=25:min-keyint=25:scenecut=0:bframes=0',
    '-f',
    'hevc',
    raw,
  ]);
  const accessUnits: HevcSource['accessUnits'] = [];
  const params: Partial<Record<'vps' | 'sps' | 'pps', Buffer>> = {};
  let pending: Buffer[] = [];
  for (const nalu of splitAnnexB(readFileSync(raw))) {
    const t = h265NalType(nalu);
    if (t === H265Nal.Vps) params.vps = nalu;
    else if (t === H265Nal.Sps) params.sps = nalu;
    else if (t === H265Nal.Pps) params.pps = nalu;
    else if (t < 32) {
      // VCL: first_slice_segment_in_pic_flag (first bit after the 2-byte header) starts a picture.
      if ((nalu[2]! & 0x80) !== 0) accessUnits.push({ nalus: [...pending, nalu], key: isH265Irap(t) });
      else accessUnits[accessUnits.length - 1]!.nalus.push(nalu);
      pending = [];
    } else pending.push(nalu);
  }
  const { vps, sps, pps } = params;
  if (!vps || !sps || !pps) throw new Error('libx265 output without VPS/SPS/PPS');
  return { vps, sps, pps, accessUnits };
}

export type HevcFraming = 'legacy' | 'enhanced';

/**
 * FLV video tag bodies for the source, framed both ways encoders do: legacy codec id 12 (lal,
 * SRS) and Enhanced RTMP 'hvc1'. The first is the sequence header (an hvcC), then one tag per
 * access unit; enhanced frames alternate CodedFrames (with a zero CTS) and CodedFramesX (no CTS).
 */
export function hevcVideoTags(src: HevcSource, framing: HevcFraming): Buffer[] {
  const hvcc = buildHevcConfig([src.vps], [src.sps], [src.pps]);
  const ex = (frameType: number, packetType: number, body: Buffer[]): Buffer =>
    Buffer.concat([Buffer.from([0x80 | (frameType << 4) | packetType]), Buffer.from('hvc1'), ...body]);
  const legacy = (frameType: number, pkt: number, body: Buffer): Buffer =>
    Buffer.concat([Buffer.from([(frameType << 4) | 12, pkt, 0, 0, 0]), body]);
  const tags = [framing === 'legacy' ? legacy(1, 0, hvcc) : ex(1, 0, [hvcc])];
  src.accessUnits.forEach((au, i) => {
    const data = nalusToLengthPrefixed(au.nalus);
    const ft = au.key ? 1 : 2;
    if (framing === 'legacy') tags.push(legacy(ft, 1, data));
    else tags.push(i % 2 === 0 ? ex(ft, 1, [Buffer.from([0, 0, 0]), data]) : ex(ft, 3, [data]));
  });
  return tags;
}
