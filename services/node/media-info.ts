import type { StreamMediaInfo } from '../../libs/cluster/types.ts';
import { parseAvcConfig, parseH264Sps, parseH265Sps, parseHevcConfig } from '../../libs/codec/index.ts';
import { parseAudioTag, parseVideoTag } from '../../libs/flv/index.ts';
import { MediaKind } from '../../libs/stream/index.ts';

/**
 * Codec and picture size from a sequence header, for the registry and the scheduler.
 * Best effort: a header we cannot parse yields what could be read (never throws).
 */
export function mediaInfoFromSequenceHeader(kind: number, payload: Buffer): StreamMediaInfo {
  try {
    if (kind === MediaKind.Video) {
      const v = parseVideoTag(payload);
      if (v.codec === 'avc') {
        const sps = parseAvcConfig(v.data).sps[0];
        const s = sps ? parseH264Sps(sps) : null;
        return s ? { videoCodec: 'h264', width: s.width, height: s.height } : { videoCodec: 'h264' };
      }
      if (v.codec === 'hevc') {
        const sps = parseHevcConfig(v.data).sps[0];
        const s = sps ? parseH265Sps(sps) : null;
        return s ? { videoCodec: 'h265', width: s.width, height: s.height } : { videoCodec: 'h265' };
      }
      return { videoCodec: v.fourCC ?? v.codec };
    }
    if (kind === MediaKind.Audio) {
      const a = parseAudioTag(payload);
      return { audioCodec: a.codec === 'other' ? (a.fourCC ?? 'other') : a.codec };
    }
  } catch {
    // fall through: unknown
  }
  return {};
}
