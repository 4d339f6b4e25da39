import { AmfEcmaArray, type AmfValue } from '../amf/index.ts';
import { parseScriptData } from '../flv/index.ts';
import { MediaKind, type MediaMessage } from '../stream/media.ts';

/**
 * When a recording of one publisher may begin: on the first video key frame, or, for a stream
 * without video, on the first audio frame. A stream "has video" once it sent a video sequence
 * header or its onMetaData names a video codec; when metadata promises video that never comes,
 * the recording starts on audio after AUDIO_ONLY_AFTER_MS of it, so it is not lost.
 */
export const AUDIO_ONLY_AFTER_MS = 3000;

export class StartRule {
  private videoHeaderSeen = false;
  private metadataVideo = false;
  private metadataAudio = false;
  private firstAudioTs = -1;

  /** Video is expected (a sequence header arrived, or metadata announced it). */
  get expectsVideo(): boolean {
    return this.videoHeaderSeen || this.metadataVideo;
  }

  get expectsAudio(): boolean {
    return this.metadataAudio;
  }

  /** Learns from metadata and headers; for a frame, says whether a recording can start on it. */
  startsOn(msg: MediaMessage): boolean {
    if (msg.kind === MediaKind.Data) {
      const codecs = metadataCodecs(msg.payload);
      this.metadataVideo = codecs.video;
      this.metadataAudio = codecs.audio;
      return false;
    }
    if (msg.isSequenceHeader) {
      if (msg.kind === MediaKind.Video) this.videoHeaderSeen = true;
      return false;
    }
    if (msg.kind === MediaKind.Video) return msg.isKeyFrame;
    if (this.firstAudioTs < 0) this.firstAudioTs = msg.timestampMs;
    if (this.videoHeaderSeen) return false;
    return !this.metadataVideo || msg.timestampMs - this.firstAudioTs >= AUDIO_ONLY_AFTER_MS;
  }
}

/** Which tracks an onMetaData body announces (`videocodecid` / `audiocodecid`); none when unreadable. */
export function metadataCodecs(body: Buffer): { video: boolean; audio: boolean } {
  let value: AmfValue;
  try {
    value = parseScriptData(body).value;
  } catch {
    return { video: false, audio: false };
  }
  const props =
    value instanceof AmfEcmaArray
      ? value.entries
      : value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)
        ? value
        : {};
  const present = (v: AmfValue): boolean => v !== undefined && v !== null && v !== 0 && v !== '';
  return { video: present(props.videocodecid), audio: present(props.audiocodecid) };
}
