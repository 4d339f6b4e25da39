import type { Logger } from 'pino';
import type { Counters } from '../metrics/counters.ts';
import { MediaKind, type MediaMessage } from '../stream/media.ts';
import { AppendFile } from './append-file.ts';

/** `hls`: one HLS segment file (a node with `hls.store: disk`). */
export type RecordFormat = 'flv' | 'ts' | 'hls';

/** One recording file as events and logs describe it. */
export interface RecordFileInfo {
  key: string;
  format: RecordFormat;
  /** Absolute path of the file. */
  path: string;
  /** The publish session that started the file. */
  sessionId: string;
}

export interface RecordFileEnd extends RecordFileInfo {
  /** Bytes in the file. */
  bytes: number;
  /** Media time the file covers (ms). */
  durationMs: number;
  /** Frames left out because the write queue was over its bound. */
  droppedFrames: number;
  reason: string;
}

/** What a recording reports to its node (events, logs), and the files open right now. */
export interface RecordContext {
  log: Logger;
  counters: Counters;
  /** Per-file write queue bound; over it, frames are dropped to the next key frame. */
  maxQueueBytes: number;
  opened(info: RecordFileInfo): void;
  closed(end: RecordFileEnd): void;
  /** Files open now (for shutdown: every one is closed and awaited). */
  readonly open: Set<RecordFile>;
}

/** What a recorder (one stream, one format) is built with. */
export interface RecorderOptions {
  key: string;
  dir: string;
  ctx: RecordContext;
  /** Clock for file names (tests). */
  now?: () => Date;
}

/** A recorder hit a bug or an impossible input: counted and logged; the caller ends its file. */
export function recorderFailed(o: RecorderOptions, format: RecordFormat, e: unknown): void {
  const c = (e as { code?: unknown } | null)?.code;
  const code = typeof c === 'string' ? c : 'INTERNAL';
  o.ctx.counters.inc('record_errors', 1, { format, code });
  o.ctx.log.error({ stream: o.key, format, code, err: e }, 'recording failed; the file ends here');
}

/** Drop summaries of one file are logged at most this often. */
const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * One open recording file: its background writer, the byte bound on its queue (frames over it
 * are dropped until the next video key frame, or, without video, until the queue has drained to
 * half), and its end: closed by the recorder, or by the first write error, which is logged once,
 * counted (`record_errors`) and ends the file while the stream goes on.
 */
export class RecordFile {
  readonly info: RecordFileInfo;
  private readonly ctx: RecordContext;
  private readonly file: AppendFile;
  private readonly durationMs: () => number;
  private readonly log: Logger;
  private dropping = false;
  private dropped = 0;
  private droppedSinceLog = 0;
  private lastDropLogAt = 0;
  private closing: Promise<void> | null = null;

  constructor(info: RecordFileInfo, ctx: RecordContext, durationMs: () => number) {
    this.info = info;
    this.ctx = ctx;
    this.durationMs = durationMs;
    this.log = ctx.log.child({ stream: info.key, format: info.format });
    this.file = new AppendFile(info.path, (err) => this.onWriteError(err));
    ctx.open.add(this);
    ctx.counters.inc('record_files', 1, { format: info.format });
    this.log.info({ path: info.path, session: info.sessionId }, 'recording started');
    ctx.opened(info);
  }

  /** Ended by an error or closed: nothing more goes in. */
  get ended(): boolean {
    return this.closing !== null;
  }

  get queuedBytes(): number {
    return this.file.queuedBytes;
  }

  /**
   * Whether `msg` may go to the file under the queue bound. Metadata and sequence headers always
   * may (small, and needed to decode what follows); `hasVideo` says whether a video key frame is
   * where a dropped recording resumes.
   */
  admit(msg: MediaMessage, hasVideo: boolean): boolean {
    if (msg.kind === MediaKind.Data || msg.isSequenceHeader) return true;
    const queued = this.file.queuedBytes;
    const max = this.ctx.maxQueueBytes;
    if (this.dropping) {
      const resume = hasVideo
        ? msg.kind === MediaKind.Video && msg.isKeyFrame && queued <= max
        : queued <= max / 2;
      if (resume) {
        this.dropping = false;
        return true;
      }
    } else if (queued <= max) {
      return true;
    } else {
      this.dropping = true;
    }
    this.dropped++;
    this.droppedSinceLog++;
    this.ctx.counters.inc('record_dropped_frames', 1, { format: this.info.format });
    const now = Date.now();
    if (now - this.lastDropLogAt >= DROP_LOG_INTERVAL_MS) this.logDrops(now);
    return false;
  }

  write(bufs: Buffer[]): void {
    if (this.closing) return;
    for (const b of bufs) this.file.write(b);
  }

  /** Writes what is queued, closes the file and reports it; resolves once closed (never rejects). */
  close(reason: string): Promise<void> {
    if (!this.closing) this.closing = this.finish(reason);
    return this.closing;
  }

  private async finish(reason: string): Promise<void> {
    const durationMs = this.durationMs();
    await this.file.close();
    this.ctx.open.delete(this);
    if (this.droppedSinceLog > 0) this.logDrops(Date.now());
    const end: RecordFileEnd = {
      ...this.info,
      bytes: this.file.bytesWritten,
      durationMs: Math.round(durationMs),
      droppedFrames: this.dropped,
      reason: this.file.error ? `write error: ${this.file.error.code ?? 'EIO'}` : reason,
    };
    this.log.info(
      {
        path: end.path,
        session: end.sessionId,
        bytes: end.bytes,
        durationMs: end.durationMs,
        droppedFrames: end.droppedFrames,
        reason: end.reason,
      },
      'recording stopped',
    );
    try {
      this.ctx.closed(end);
    } catch (e) {
      this.log.error({ err: e }, 'recording stop report failed');
    }
  }

  private onWriteError(err: NodeJS.ErrnoException): void {
    const code = err.code ?? 'EIO';
    this.ctx.counters.inc('record_errors', 1, { format: this.info.format, code });
    // Once per file: the file ends here, so no further error can come from it.
    this.log.error({ path: this.info.path, code, err: err.message }, 'recording write failed; file closed');
    void this.close(`write error: ${code}`);
  }

  private logDrops(now: number): void {
    this.log.warn(
      {
        path: this.info.path,
        droppedFrames: this.droppedSinceLog,
        droppedTotal: this.dropped,
        queuedBytes: this.file.queuedBytes,
        maxQueueBytes: this.ctx.maxQueueBytes,
      },
      'recording too slow: frames dropped to the next key frame',
    );
    this.droppedSinceLog = 0;
    this.lastDropLogAt = now;
  }
}
