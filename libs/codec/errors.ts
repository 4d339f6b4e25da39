import { ProtocolError } from '../errors/protocol-error.ts';

/** Stable `ProtocolError` codes raised by libs/codec. */
export const CodecErrorCode = {
  BadNaluLength: 'CODEC_BAD_NALU_LENGTH',
  BadNaluHeader: 'CODEC_BAD_NALU_HEADER',
  BadAvcc: 'CODEC_BAD_AVCC',
  BadHvcc: 'CODEC_BAD_HVCC',
  BadH264Sps: 'CODEC_BAD_H264_SPS',
  BadH265Sps: 'CODEC_BAD_H265_SPS',
  BadAsc: 'CODEC_BAD_ASC',
  BadAdts: 'CODEC_BAD_ADTS',
} as const;
export type CodecErrorCode = (typeof CodecErrorCode)[keyof typeof CodecErrorCode];

/**
 * Runs `read` and re-raises the byte/bit readers' generic errors (BYTES_TRUNCATED,
 * BITS_*) under the codec's own code, so callers can tell an AVCC from an SPS failure.
 */
export function withCode<T>(code: CodecErrorCode, what: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof ProtocolError && e.code !== code) {
      throw new ProtocolError(code, `${what}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}
