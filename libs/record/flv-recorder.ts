import type { MediaMessage } from '../stream/media.ts';
import type { StreamTap } from '../stream/tap.ts';
import { FlvBuilder } from './flv-builder.ts';
import { RecordFile, recorderFailed, type RecorderOptions } from './record-file.ts';
import { recordFilePath } from './record-path.ts';

/**
 * Records each publish of one stream to its own FLV file (a StreamTap): a publisher that
 * reconnects gets a new file and the old one is closed. The file is created when the recording
 * can start (first key frame), so a publish that never sends media leaves no file. Nothing here
 * throws into the media path: an unexpected failure ends the file and is logged.
 */
export class FlvRecorder implements StreamTap {
  private readonly o: RecorderOptions;
  private builder: FlvBuilder | null = null;
  private file: RecordFile | null = null;
  private sessionId = '';

  constructor(o: RecorderOptions) {
    this.o = o;
  }

  onPublisherStart(publisherId: string): void {
    void this.stop('publisher changed');
    this.builder = new FlvBuilder();
    this.sessionId = publisherId;
  }

  onMessage(msg: MediaMessage): void {
    const b = this.builder;
    if (!b) return;
    const file = this.file;
    if (file && (file.ended || !file.admit(msg, b.hasVideo))) return;
    try {
      const bufs = b.push(msg);
      if (bufs.length === 0) return;
      (file ?? this.open()).write(bufs);
    } catch (e) {
      this.fail(e);
    }
  }

  onPublisherStop(): void {
    void this.stop('unpublished');
  }

  close(): void {
    void this.stop('stream ended');
  }

  /** Ends the current file (if any); resolves once it is closed. */
  stop(reason: string): Promise<void> {
    this.builder = null;
    const file = this.file;
    this.file = null;
    return file ? file.close(reason) : Promise.resolve();
  }

  private open(): RecordFile {
    const b = this.builder!;
    const path = recordFilePath(this.o.dir, this.o.key, this.o.now?.() ?? new Date(), this.sessionId, 'flv');
    this.file = new RecordFile(
      { key: this.o.key, format: 'flv', path, sessionId: this.sessionId },
      this.o.ctx,
      () => b.durationMs,
    );
    return this.file;
  }

  /** A bug or an impossible input (a tag over 16 MiB): this publish is no longer recorded. */
  private fail(e: unknown): void {
    recorderFailed(this.o, 'flv', e);
    void this.stop('internal error');
  }
}
