import { TsMuxer } from '../mpegts/index.ts';
import { MediaKind, type MediaMessage } from '../stream/media.ts';
import { StartRule } from './start-rule.ts';

const EMPTY = Buffer.alloc(0);

/** Gap left in the file's timeline between the last frame of a publisher and the first of the next. */
const PUBLISHER_GAP_MS = 40;

/**
 * The bytes of one long MPEG-TS recording, sans I/O: one muxer for the whole file, fed by one
 * publisher after another. Each publisher's part starts at its first video key frame (or first
 * audio frame without video: StartRule), which the muxer opens with PAT and PMT, so a reconnect
 * is a clean new start inside the same file: continuity counters go on (the muxer keeps them),
 * and timestamps go on from where the previous publisher stopped, PTS/DTS starting at 0 for the
 * file. Sequence headers and metadata only update the muxer's codec configuration.
 */
export class TsBuilder {
  private readonly muxer = new TsMuxer();
  private rule = new StartRule();
  /** Waiting for the current publisher's first frame to start on. */
  private waiting = true;
  /** Maps the current publisher's timeline onto the file's. */
  private offsetMs = 0;
  /** The file timeline where the current publisher's part starts (earlier audio is clamped to it). */
  private floorMs = 0;
  private lastMs = -1;

  /** A new publisher: wait for its first key frame, then continue the file's timeline. */
  publisherStarted(): void {
    this.rule = new StartRule();
    this.waiting = true;
  }

  get hasVideo(): boolean {
    return this.rule.expectsVideo;
  }

  /** Media time the file covers so far (ms). */
  get durationMs(): number {
    return Math.max(0, this.lastMs);
  }

  /** Frames the muxer could not carry (codecs MPEG-TS has no mapping for here: VP9, AV1, Opus...). */
  get unsupportedFrames(): number {
    return this.muxer.stats.unsupportedFrames;
  }

  /** TS packets to append for `msg` (empty for headers, metadata, and until the part starts). */
  push(msg: MediaMessage): Buffer {
    const startsHere = this.rule.startsOn(msg);
    if (msg.kind === MediaKind.Data || msg.isSequenceHeader) {
      this.muxer.mux(msg);
      return EMPTY;
    }
    if (this.waiting) {
      if (!startsHere) return EMPTY;
      this.waiting = false;
      this.floorMs = this.lastMs < 0 ? 0 : this.lastMs + PUBLISHER_GAP_MS;
      this.offsetMs = this.floorMs - msg.timestampMs;
    }
    const ts = Math.max(this.floorMs, msg.timestampMs + this.offsetMs);
    if (ts > this.lastMs) this.lastMs = ts;
    return this.muxer.mux({
      kind: msg.kind,
      timestampMs: ts,
      payload: msg.payload,
      isKeyFrame: msg.isKeyFrame,
      isSequenceHeader: false,
    });
  }
}
