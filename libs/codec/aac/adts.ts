import { ProtocolError } from '../../errors/protocol-error.ts';
import { CodecErrorCode } from '../errors.ts';
import { AAC_SAMPLE_RATES } from './asc.ts';
import type { AudioSpecificConfig } from './asc.ts';

/** One ADTS frame (ISO/IEC 13818-7 §6.2, 14496-3 §1.A.2). */
export interface AdtsFrame {
  asc: AudioSpecificConfig;
  /** 7, or 9 with the CRC. */
  headerLength: number;
  /** Header included (aac_frame_length). */
  frameLength: number;
  /** View of the raw data block(s) after the header. */
  payload: Buffer;
}

const HEADER_SIZE = 7;
const CRC_SIZE = 2;
/** aac_frame_length is 13 bits. */
const MAX_FRAME_LENGTH = 0x1fff;
/** adts_buffer_fullness 0x7FF signals a variable-rate stream. */
const VBR_FULLNESS = 0x7ff;

function bad(message: string): ProtocolError {
  return new ProtocolError(CodecErrorCode.BadAdts, `ADTS: ${message}`);
}

/**
 * Splits consecutive ADTS frames into views. Raises ProtocolError 'CODEC_BAD_ADTS' on a bad
 * sync word, a reserved sampling index, or a frame length that is too short or overruns `buf`.
 */
export function parseAdtsFrames(buf: Buffer): AdtsFrame[] {
  const frames: AdtsFrame[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < HEADER_SIZE) throw bad(`truncated header at offset ${pos}`);
    const b1 = buf[pos + 1]!;
    const b2 = buf[pos + 2]!;
    const b3 = buf[pos + 3]!;
    // syncword 0xFFF and layer '00'
    if (buf[pos] !== 0xff || (b1 & 0xf6) !== 0xf0) throw bad(`no sync word at offset ${pos}`);
    const headerLength = (b1 & 0x01) === 1 ? HEADER_SIZE : HEADER_SIZE + CRC_SIZE;
    const samplingFrequencyIndex = (b2 >>> 2) & 0x0f;
    const sampleRate = AAC_SAMPLE_RATES[samplingFrequencyIndex];
    if (sampleRate === undefined) throw bad(`reserved sampling_frequency_index ${samplingFrequencyIndex}`);
    const frameLength = ((b3 & 0x03) << 11) | (buf[pos + 4]! << 3) | (buf[pos + 5]! >>> 5);
    if (frameLength < headerLength) throw bad(`aac_frame_length ${frameLength} shorter than its header`);
    if (frameLength > buf.length - pos) {
      throw bad(`aac_frame_length ${frameLength} at offset ${pos} overruns the ${buf.length}-byte buffer`);
    }
    frames.push({
      asc: {
        objectType: (b2 >>> 6) + 1, // profile_ObjectType is objectType - 1
        samplingFrequencyIndex,
        sampleRate,
        channelConfiguration: ((b2 & 0x01) << 2) | (b3 >>> 6),
      },
      headerLength,
      frameLength,
      payload: buf.subarray(pos + headerLength, pos + frameLength),
    });
    pos += frameLength;
  }
  return frames;
}

/** A 7-byte ADTS header without CRC, one raw data block, for `payloadLength` bytes of AAC. */
export function buildAdtsHeader(asc: AudioSpecificConfig, payloadLength: number): Buffer {
  const { objectType, samplingFrequencyIndex, channelConfiguration } = asc;
  if (objectType < 1 || objectType > 4) throw bad(`objectType ${objectType} has no 2-bit ADTS profile`);
  if (AAC_SAMPLE_RATES[samplingFrequencyIndex] === undefined) {
    throw bad(`samplingFrequencyIndex ${samplingFrequencyIndex} cannot be carried in ADTS`);
  }
  if (channelConfiguration < 0 || channelConfiguration > 7) {
    throw bad(`channelConfiguration ${channelConfiguration} does not fit 3 bits`);
  }
  const frameLength = HEADER_SIZE + payloadLength;
  if (!Number.isInteger(payloadLength) || payloadLength < 0 || frameLength > MAX_FRAME_LENGTH) {
    throw bad(`payload of ${payloadLength} bytes does not fit a 13-bit aac_frame_length`);
  }
  const h = Buffer.allocUnsafe(HEADER_SIZE);
  h[0] = 0xff;
  h[1] = 0xf1; // sync, MPEG-4, layer 0, protection_absent
  h[2] = ((objectType - 1) << 6) | (samplingFrequencyIndex << 2) | (channelConfiguration >>> 2);
  h[3] = ((channelConfiguration & 0x03) << 6) | (frameLength >>> 11);
  h[4] = (frameLength >>> 3) & 0xff;
  h[5] = ((frameLength & 0x07) << 5) | (VBR_FULLNESS >>> 6);
  h[6] = (VBR_FULLNESS & 0x3f) << 2; // number_of_raw_data_blocks_in_frame 0 (one block)
  return h;
}
