import { encodeFlvHeader, encodeFlvTag } from '../flv/index.ts';
import { MediaKind, type MediaMessage } from '../stream/media.ts';
import { StartRule } from './start-rule.ts';

/**
 * The bytes of one FLV recording (one publish), sans I/O: fed the stream's messages in order, it
 * returns what to append. Nothing until the recording can start (StartRule); then the FLV header,
 * the latest metadata and sequence headers, and that frame, all at timestamp 0; then every
 * message, with timestamps relative to that frame. Every returned chunk is whole tags, so the
 * file is a valid FLV at every write boundary (ffprobe reads a file still being written).
 */
export class FlvBuilder {
  private readonly rule = new StartRule();
  private metadata: MediaMessage | null = null;
  private videoHeader: MediaMessage | null = null;
  private audioHeader: MediaMessage | null = null;
  private baseTs = -1;
  private lastRelTs = 0;

  get started(): boolean {
    return this.baseTs >= 0;
  }

  /** Video expected: the recording waits for (and after drops, resumes at) a video key frame. */
  get hasVideo(): boolean {
    return this.rule.expectsVideo;
  }

  /** Media time the file covers so far (ms). */
  get durationMs(): number {
    return this.lastRelTs;
  }

  push(msg: MediaMessage): Buffer[] {
    const startsHere = this.rule.startsOn(msg);
    if (!this.started) {
      if (msg.kind === MediaKind.Data) this.metadata = msg;
      else if (msg.isSequenceHeader) {
        if (msg.kind === MediaKind.Video) this.videoHeader = msg;
        else this.audioHeader = msg;
      }
      if (!startsHere) return [];
      return this.start(msg);
    }
    if (msg.kind === MediaKind.Data || msg.isSequenceHeader) {
      // A new configuration goes in where it arrived in the timeline.
      return [encodeFlvTag(msg.kind, this.lastRelTs, msg.payload)];
    }
    // Audio may lag the first key frame by a few ms: it is kept, at 0.
    const rel = Math.max(0, msg.timestampMs - this.baseTs);
    if (rel > this.lastRelTs) this.lastRelTs = rel;
    return [encodeFlvTag(msg.kind, rel, msg.payload)];
  }

  private start(first: MediaMessage): Buffer[] {
    this.baseTs = first.timestampMs;
    const hasVideo = this.videoHeader !== null || first.kind === MediaKind.Video;
    const hasAudio = this.audioHeader !== null || first.kind === MediaKind.Audio || this.rule.expectsAudio;
    const out = [encodeFlvHeader(hasAudio, hasVideo)];
    for (const m of [this.metadata, this.videoHeader, this.audioHeader, first]) {
      if (m) out.push(encodeFlvTag(m.kind, 0, m.payload));
    }
    this.metadata = this.videoHeader = this.audioHeader = null;
    return out;
  }
}
