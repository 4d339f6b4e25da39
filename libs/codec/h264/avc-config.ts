import { ByteReader } from '../../bytes/byte-reader.ts';
import { ByteWriter } from '../../bytes/byte-writer.ts';
import { ProtocolError } from '../../errors/protocol-error.ts';
import type { NalLengthSize } from '../annexb.ts';
import { CodecErrorCode, withCode } from '../errors.ts';
import { parseH264Sps } from './sps.ts';

/** AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1), the avcC box / FLV sequence header. */
export interface AvcConfig {
  profileIdc: number;
  profileCompatibility: number;
  levelIdc: number;
  nalLengthSize: NalLengthSize;
  sps: Buffer[];
  pps: Buffer[];
  /** The high-profile trailer; absent when the record does not carry it. */
  chromaFormat?: number;
  bitDepthLuma?: number;
  bitDepthChroma?: number;
  spsExt?: Buffer[];
}

/** Profiles for which §5.3.3.1 defines the chroma/bit-depth trailer. */
const TRAILER_PROFILES: ReadonlySet<number> = new Set([100, 110, 122, 144]);
/** Profiles that never have one; anything else may (muxers differ on 244 and friends). */
const NO_TRAILER_PROFILES: ReadonlySet<number> = new Set([66, 77, 88]);

function bad(message: string): ProtocolError {
  return new ProtocolError(CodecErrorCode.BadAvcc, `AVCDecoderConfigurationRecord: ${message}`);
}

/** Parses an avcC record. Raises ProtocolError 'CODEC_BAD_AVCC' on version != 1, no SPS or truncation. */
export function parseAvcConfig(buf: Buffer): AvcConfig {
  return withCode(CodecErrorCode.BadAvcc, 'AVCDecoderConfigurationRecord', () => {
    const r = new ByteReader(buf);
    const version = r.u8('configurationVersion');
    if (version !== 1) throw bad(`configurationVersion ${version}, expected 1`);
    const profileIdc = r.u8('AVCProfileIndication');
    const profileCompatibility = r.u8('profile_compatibility');
    const levelIdc = r.u8('AVCLevelIndication');
    const lengthSizeMinusOne = r.u8('lengthSizeMinusOne') & 0x03;
    if (lengthSizeMinusOne === 2) throw bad('lengthSizeMinusOne 2 (3-byte lengths) is not allowed');
    const nalLengthSize = (lengthSizeMinusOne + 1) as NalLengthSize;
    const numSps = r.u8('numOfSequenceParameterSets') & 0x1f;
    if (numSps === 0) throw bad('no SPS');
    const sps = readNalus(r, numSps, 'sequenceParameterSetNALUnit');
    const pps = readNalus(r, r.u8('numOfPictureParameterSets'), 'pictureParameterSetNALUnit');
    const config: AvcConfig = { profileIdc, profileCompatibility, levelIdc, nalLengthSize, sps, pps };
    if (!NO_TRAILER_PROFILES.has(profileIdc) && r.remaining >= 4) readTrailer(r, config);
    return config;
  });
}

/**
 * The optional trailer. Many muxers omit it and some write it short, and it repeats what the
 * SPS already says, so a malformed trailer is ignored rather than failing the stream.
 */
function readTrailer(r: ByteReader, config: AvcConfig): void {
  try {
    const chromaFormat = r.u8('chroma_format') & 0x03;
    const bitDepthLuma = (r.u8('bit_depth_luma_minus8') & 0x07) + 8;
    const bitDepthChroma = (r.u8('bit_depth_chroma_minus8') & 0x07) + 8;
    const spsExt = readNalus(r, r.u8('numOfSequenceParameterSetExt'), 'sequenceParameterSetExtNALUnit');
    Object.assign(config, { chromaFormat, bitDepthLuma, bitDepthChroma, spsExt });
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
}

function readNalus(r: ByteReader, count: number, what: string): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) out.push(r.bytes(r.u16be(`${what}Length`), what));
  return out;
}

/**
 * Builds an avcC record with 4-byte NAL lengths. Profile, compatibility and level come from
 * the first SPS; the high-profile trailer is added for profiles 100/110/122/144 from its parsed fields.
 */
export function buildAvcConfig(sps: Buffer[], pps: Buffer[]): Buffer {
  const first = sps[0];
  if (first === undefined || first.length < 4) throw bad('need at least one SPS of 4 or more bytes');
  if (sps.length > 31) throw bad(`${sps.length} SPS, at most 31 fit`);
  if (pps.length > 255) throw bad(`${pps.length} PPS, at most 255 fit`);
  const w = new ByteWriter(16 + [...sps, ...pps].reduce((n, b) => n + 2 + b.length, 0));
  w.u8(1).u8(first[1]!).u8(first[2]!).u8(first[3]!);
  w.u8(0xfc | 3); // reserved '111111', lengthSizeMinusOne = 3
  w.u8(0xe0 | sps.length); // reserved '111', numOfSequenceParameterSets
  writeNalus(w, sps);
  w.u8(pps.length);
  writeNalus(w, pps);
  if (TRAILER_PROFILES.has(first[1]!)) {
    const s = parseH264Sps(first);
    w.u8(0xfc | s.chromaFormatIdc);
    w.u8(0xf8 | (s.bitDepthLuma - 8));
    w.u8(0xf8 | (s.bitDepthChroma - 8));
    w.u8(0); // numOfSequenceParameterSetExt
  }
  return w.toBuffer();
}

function writeNalus(w: ByteWriter, nalus: Buffer[]): void {
  for (const n of nalus) {
    if (n.length > 0xffff) throw bad(`parameter set of ${n.length} bytes does not fit a 16-bit length`);
    w.u16be(n.length).bytes(n);
  }
}
