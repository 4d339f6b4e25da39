import { readFileSync } from 'node:fs';
import { H264Nal, H265Nal, h264NalType, h265NalType, splitAnnexB } from '../../../libs/codec/index.ts';

const DIR = new URL('../../fixtures/codec/', import.meta.url);

/** Bytes of a file in test/fixtures/codec (see its README.md for how each was made). */
export function fixture(name: string): Buffer {
  return readFileSync(new URL(name, DIR));
}

/** What ffprobe said about a fixture (written next to it by make.sh). */
export interface Probe {
  codec_name: string;
  profile: string;
  level?: number;
  width?: number;
  height?: number;
  pix_fmt?: string;
  field_order?: string;
  r_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
}

export function probe(name: string): Probe {
  const json = JSON.parse(readFileSync(new URL(`${name}.probe.json`, DIR), 'utf8')) as { streams: Probe[] };
  const s = json.streams[0];
  if (s === undefined) throw new Error(`${name}.probe.json has no stream`);
  return s;
}

/** ffprobe's "25/1" as a number. */
export function rate(r: string | undefined): number {
  const [n, d] = (r ?? '0/1').split('/').map(Number);
  return n! / d!;
}

export function pixFmt(chromaFormatIdc: number, bitDepth: number): string {
  const layout = ['gray', 'yuv420p', 'yuv422p', 'yuv444p'][chromaFormatIdc]!;
  return bitDepth > 8 ? `${layout}${bitDepth}le` : layout;
}

/** The parameter sets and NAL types of a raw H.264 fixture. */
export function h264Parameters(name: string): { sps: Buffer; pps: Buffer; types: number[] } {
  const nalus = splitAnnexB(fixture(name));
  const sps = nalus.find((n) => h264NalType(n) === H264Nal.Sps);
  const pps = nalus.find((n) => h264NalType(n) === H264Nal.Pps);
  if (!sps || !pps) throw new Error(`${name} has no SPS/PPS`);
  return { sps, pps, types: nalus.map((n) => h264NalType(n)) };
}

/** The parameter sets and NAL types of a raw H.265 fixture. */
export function h265Parameters(name: string): { vps: Buffer; sps: Buffer; pps: Buffer; types: number[] } {
  const nalus = splitAnnexB(fixture(name));
  const find = (type: number): Buffer => {
    const n = nalus.find((x) => h265NalType(x) === type);
    if (!n) throw new Error(`${name} has no NAL unit of type ${type}`);
    return n;
  };
  return {
    vps: find(H265Nal.Vps),
    sps: find(H265Nal.Sps),
    pps: find(H265Nal.Pps),
    types: nalus.map((n) => h265NalType(n)),
  };
}
