import { buildAdtsHeader } from '../codec/aac/adts.ts';
import { parseAudioSpecificConfig } from '../codec/aac/asc.ts';
import type { AudioSpecificConfig } from '../codec/aac/asc.ts';

/**
 * AAC in a transport stream (stream_type 0x0F, ISO/IEC 13818-1 §2.4.4.9): every raw frame from
 * the FLV tag gets an ADTS header built from the AudioSpecificConfig of the sequence header.
 */

/** aac_frame_length is 13 bits and counts the 7-byte header. */
export const MAX_ADTS_PAYLOAD = 0x1fff - 7;

/**
 * The ASC of an FLV AAC sequence header, if ADTS can carry it: object types 1-4 (HE-AAC
 * configs name their core type, usually AAC-LC, and the decoder finds the SBR data in band),
 * a tabled sample rate, channel configuration 0-7. Raises ProtocolError otherwise.
 */
export function parseAudioTrackConfig(record: Buffer): AudioSpecificConfig {
  const asc = parseAudioSpecificConfig(record);
  // buildAdtsHeader rejects what ADTS cannot signal (CODEC_BAD_ADTS): check it once here.
  buildAdtsHeader(asc, 0);
  return asc;
}

/** ADTS header + raw frame; null when the frame is too long for ADTS. */
export function adtsFrameChunks(
  asc: AudioSpecificConfig,
  raw: Buffer,
): { chunks: Buffer[]; length: number } | null {
  if (raw.length > MAX_ADTS_PAYLOAD) return null;
  const header = buildAdtsHeader(asc, raw.length);
  return { chunks: [header, raw], length: header.length + raw.length };
}
