import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Buffers handed to one writev at most. Linux takes up to IOV_MAX (1024) per call; a smaller
 * batch keeps each call short and the queue accounting fine-grained.
 */
const MAX_BATCH_BUFFERS = 256;

/**
 * An append-only file written in the background: `write` queues and returns at once (it never
 * throws and never waits for the disk), one chain of promises opens the file, writes the queue in
 * order with writev, and closes it. The file is created exclusively (`wx`): an existing file or a
 * symlink planted at the path is an error, never overwritten or followed.
 *
 * The first failure (open, write, close: ENOSPC, EACCES, EEXIST, EIO...) is reported once
 * through `onError`; the queue is dropped, the file closed, and later writes are ignored. Callers
 * bound memory with `queuedBytes` (bytes accepted but not yet written).
 */
export class AppendFile {
  readonly path: string;
  private handle: FileHandle | null = null;
  private queue: Buffer[] = [];
  private queued = 0;
  private written = 0;
  private err: NodeJS.ErrnoException | null = null;
  private flushScheduled = false;
  private closing = false;
  private chain: Promise<void>;
  private readonly onError: (err: NodeJS.ErrnoException) => void;

  constructor(path: string, onError: (err: NodeJS.ErrnoException) => void) {
    this.path = path;
    this.onError = onError;
    this.chain = this.openFile();
  }

  /** Bytes accepted by `write` and not yet on disk. */
  get queuedBytes(): number {
    return this.queued;
  }

  /** Bytes the file holds (written successfully). */
  get bytesWritten(): number {
    return this.written;
  }

  /** The failure that stopped this file, if any. */
  get error(): NodeJS.ErrnoException | null {
    return this.err;
  }

  write(buf: Buffer): void {
    if (this.err || this.closing || buf.length === 0) return;
    this.queue.push(buf);
    this.queued += buf.length;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.chain = this.chain.then(() => this.flush());
  }

  /** Writes what is queued, then closes the file; resolves when done (never rejects). */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.chain = this.chain.then(() => this.closeHandle());
    }
    return this.chain;
  }

  private async openFile(): Promise<void> {
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o755 });
      this.handle = await open(this.path, 'wx', 0o644);
    } catch (e) {
      this.fail(e);
    }
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    while (this.queue.length > 0 && this.handle && !this.err) {
      const batch = this.queue.splice(0, MAX_BATCH_BUFFERS);
      let size = 0;
      for (const b of batch) size += b.length;
      try {
        await writeFully(this.handle, batch);
      } catch (e) {
        this.fail(e);
        return;
      }
      this.queued -= size;
      this.written += size;
    }
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    if (!h) return;
    try {
      await h.close();
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    if (this.err) return;
    this.err = toErrno(e);
    this.queue = [];
    this.queued = 0;
    // The file is closed at once; whatever reached it stays (tag-aligned up to the failed write).
    const h = this.handle;
    this.handle = null;
    if (h) void h.close().catch(() => undefined);
    try {
      this.onError(this.err);
    } catch {
      // A reporting bug must not turn into an unhandled rejection in the write chain.
    }
  }
}

/** writev until every byte is written (a regular file may take fewer bytes than asked). */
async function writeFully(h: FileHandle, bufs: Buffer[]): Promise<void> {
  let rest = bufs;
  while (rest.length > 0) {
    const { bytesWritten } = await h.writev(rest);
    if (bytesWritten <= 0) {
      throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    }
    rest = advance(rest, bytesWritten);
  }
}

/** The buffers left after the first `n` bytes. */
function advance(bufs: Buffer[], n: number): Buffer[] {
  let i = 0;
  let left = n;
  while (i < bufs.length && left >= bufs[i]!.length) left -= bufs[i++]!.length;
  const rest = bufs.slice(i);
  if (left > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(left);
  return rest;
}

function toErrno(e: unknown): NodeJS.ErrnoException {
  if (e instanceof Error) return e as NodeJS.ErrnoException;
  return Object.assign(new Error(String(e)), { code: 'EUNKNOWN' });
}
