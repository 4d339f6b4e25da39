import type { MediaMessage } from '../stream/media.ts';
import { RecordFile, recorderFailed, type RecorderOptions } from './record-file.ts';
import { recordFilePath } from './record-path.ts';
import { TsBuilder } from './ts-builder.ts';

/**
 * Records one stream to one long MPEG-TS file across publisher reconnects: a new publisher goes
 * on in the same file (TsBuilder). The file is created at the first publisher's first key frame,
 * and ends with `stop` (the stream is gone for good, or shutdown). After a write error the file
 * is closed, and the next publisher starts a new one. Nothing here throws into the media path.
 *
 * Not a StreamTap itself: the node keeps it across Stream objects of the same key (a stream with
 * no viewers is forgotten when its publisher leaves, and made anew when one comes back).
 */
export class TsRecorder {
  private readonly o: RecorderOptions;
  private builder: TsBuilder | null = null;
  private file: RecordFile | null = null;
  private sessionId = '';
  private stopped = false;
  private warnedUnsupported = false;

  constructor(o: RecorderOptions) {
    this.o = o;
  }

  onPublisherStart(publisherId: string): void {
    if (this.stopped) return;
    if (!this.file || this.file.ended) {
      // Nothing written yet, or the last file failed: a fresh file (and muxer) for this publisher.
      this.file = null;
      this.builder = new TsBuilder();
      this.sessionId = publisherId;
    }
    this.builder?.publisherStarted();
  }

  onMessage(msg: MediaMessage): void {
    const b = this.builder;
    if (!b) return;
    const file = this.file;
    if (file && (file.ended || !file.admit(msg, b.hasVideo))) return;
    try {
      const bytes = b.push(msg);
      if (!this.warnedUnsupported && b.unsupportedFrames > 0) this.warnUnsupported();
      if (bytes.length === 0) return;
      (file ?? this.open(b)).write([bytes]);
    } catch (e) {
      recorderFailed(this.o, 'ts', e);
      this.builder = null;
      void this.file?.close('internal error');
    }
  }

  /** Ends the recording for good; resolves once its file is closed. */
  stop(reason: string): Promise<void> {
    this.stopped = true;
    this.builder = null;
    const file = this.file;
    this.file = null;
    return file ? file.close(reason) : Promise.resolve();
  }

  private open(b: TsBuilder): RecordFile {
    const path = recordFilePath(this.o.dir, this.o.key, this.o.now?.() ?? new Date(), this.sessionId, 'ts');
    this.file = new RecordFile(
      { key: this.o.key, format: 'ts', path, sessionId: this.sessionId },
      this.o.ctx,
      () => b.durationMs,
    );
    return this.file;
  }

  private warnUnsupported(): void {
    this.warnedUnsupported = true;
    this.o.ctx.log.warn(
      { stream: this.o.key },
      'stream has a codec MPEG-TS recording does not carry (only H.264, H.265 and AAC); those frames are left out',
    );
  }
}
