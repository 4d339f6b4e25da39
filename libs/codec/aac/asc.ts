import { BitReader } from '../../bytes/bit-reader.ts';
import { BitWriter } from '../../bytes/bit-writer.ts';
import { ProtocolError } from '../../errors/protocol-error.ts';
import { CodecErrorCode, withCode } from '../errors.ts';

/**
 * AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1), the esds DecoderSpecificInfo and the FLV
 * AAC sequence header. For explicit SBR/PS signalling (object type 5 or 29) the fields
 * describe the core codec (usually AAC-LC at half the output rate), and the extension
 * fields carry the SBR/PS type and output rate.
 */
export interface AudioSpecificConfig {
  objectType: number;
  /** 0..12 index into AAC_SAMPLE_RATES, or 15 when the rate is explicit. */
  samplingFrequencyIndex: number;
  sampleRate: number;
  /** 0 means "defined in a program_config_element". */
  channelConfiguration: number;
  /** As signalled: 5 (SBR) or 29 (SBR + PS); absent for plain configs. */
  extensionObjectType?: number;
  /** Output rate after SBR. */
  extensionSampleRate?: number;
}

/** samplingFrequencyIndex -> Hz (Table 1.18); 13 and 14 are reserved, 15 is "explicit". */
export const AAC_SAMPLE_RATES: readonly number[] = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

export const AacObjectType = { Main: 1, Lc: 2, Ssr: 3, Ltp: 4, Sbr: 5, Ps: 29, Escape: 31 } as const;
export type AacObjectType = (typeof AacObjectType)[keyof typeof AacObjectType];

const EXPLICIT_RATE_INDEX = 15;

function bad(message: string): ProtocolError {
  return new ProtocolError(CodecErrorCode.BadAsc, `AudioSpecificConfig: ${message}`);
}

/** Parses the leading fields of an AudioSpecificConfig. Raises ProtocolError 'CODEC_BAD_ASC'. */
export function parseAudioSpecificConfig(buf: Buffer): AudioSpecificConfig {
  return withCode(CodecErrorCode.BadAsc, 'AudioSpecificConfig', () => {
    const r = new BitReader(buf);
    const objectType = readObjectType(r);
    const rate = readSampleRate(r);
    const channelConfiguration = r.bits(4, 'channelConfiguration');
    if (objectType !== AacObjectType.Sbr && objectType !== AacObjectType.Ps) {
      return { objectType, samplingFrequencyIndex: rate.index, sampleRate: rate.hz, channelConfiguration };
    }
    // §1.6.2.1 explicit hierarchical signalling: extension rate, then the core object type.
    const extensionRate = readSampleRate(r);
    return {
      objectType: readObjectType(r),
      samplingFrequencyIndex: rate.index,
      sampleRate: rate.hz,
      channelConfiguration,
      extensionObjectType: objectType,
      extensionSampleRate: extensionRate.hz,
    };
  });
}

/** GetAudioObjectType(): 5 bits, 31 escapes to 32 + 6 more bits. */
function readObjectType(r: BitReader): number {
  const t = r.bits(5, 'audioObjectType');
  if (t === 0) throw bad('audioObjectType 0 (null)');
  return t === AacObjectType.Escape ? 32 + r.bits(6, 'audioObjectTypeExt') : t;
}

function readSampleRate(r: BitReader): { index: number; hz: number } {
  const index = r.bits(4, 'samplingFrequencyIndex');
  if (index === EXPLICIT_RATE_INDEX) {
    const hz = r.bits(24, 'samplingFrequency');
    if (hz === 0) throw bad('explicit samplingFrequency 0');
    return { index, hz };
  }
  const hz = AAC_SAMPLE_RATES[index];
  if (hz === undefined) throw bad(`reserved samplingFrequencyIndex ${index}`);
  return { index, hz };
}

/**
 * Builds a plain (non-SBR) AudioSpecificConfig; a rate outside AAC_SAMPLE_RATES is written
 * explicitly. GASpecificConfig is all zeros: 1024-sample frames, no core coder, no extension.
 */
export function buildAudioSpecificConfig(c: {
  objectType: number;
  sampleRate: number;
  channelConfiguration: number;
}): Buffer {
  const { objectType, sampleRate, channelConfiguration } = c;
  if (!Number.isInteger(objectType) || objectType < 1 || objectType > 95) {
    throw bad(`objectType ${objectType} out of range 1..95`);
  }
  if (objectType === AacObjectType.Sbr || objectType === AacObjectType.Ps) {
    throw bad(`objectType ${objectType} needs SBR/PS extension fields; build the core type instead`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 0xffffff) {
    throw bad(`sampleRate ${sampleRate} out of range`);
  }
  if (!Number.isInteger(channelConfiguration) || channelConfiguration < 0 || channelConfiguration > 15) {
    throw bad(`channelConfiguration ${channelConfiguration} out of range 0..15`);
  }
  const w = new BitWriter();
  if (objectType >= 32) w.bits(5, AacObjectType.Escape).bits(6, objectType - 32);
  else w.bits(5, objectType);
  const index = AAC_SAMPLE_RATES.indexOf(sampleRate);
  if (index >= 0) w.bits(4, index);
  else w.bits(4, EXPLICIT_RATE_INDEX).bits(24, sampleRate);
  w.bits(4, channelConfiguration);
  w.bits(3, 0); // frameLengthFlag, dependsOnCoreCoder, extensionFlag
  return w.toBuffer();
}
