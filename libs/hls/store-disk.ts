import { constants } from 'node:fs';
import { mkdir, open, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { validSegment } from '../names/stream-key.ts';
import {
  emptyStats,
  type SegmentStore,
  type StoreError,
  type StreamStore,
  type StreamStoreStats,
} from './store.ts';
import { WriteQueue, type QueuedOp } from './write-queue.ts';

/** Default bound on one stream's queued disk writes: a few segments of a high-bitrate stream. */
export const DEFAULT_MAX_QUEUED_BYTES = 32 * 1024 * 1024;

/** StoreError code of a write dropped because the stream's queue was over its bound. */
export const QUEUE_FULL = 'QUEUE_FULL';

/** A file bigger than this is not read as a segment (segments are bounded far below it). */
const MAX_READ_BYTES = 256 * 1024 * 1024;

export interface DiskSegmentStoreOptions {
  /** Directory under which `<app>/<name>/` holds each stream's segments and playlists. */
  root: string;
  /** Per stream: writes that would queue more bytes than this are dropped (counted, logged once). */
  maxQueuedBytes?: number;
  log: Logger;
  /** Every failed or dropped operation (for metrics and events). */
  onError?: (key: string, e: StoreError) => void;
}

/**
 * Segments and playlists on disk under `<root>/<app>/<name>/` (lal's layout). The stream key was
 * validated by libs/names already; the path is still built with path.join and checked to stay
 * under root. Writes go through a per-stream ordered queue (a segment is on disk before the
 * playlist listing it), asynchronously; playlists are replaced atomically (temp file + rename).
 */
export class DiskSegmentStore implements SegmentStore {
  readonly kind = 'disk';
  readonly root: string;
  private readonly maxQueuedBytes: number;
  private readonly log: Logger;
  private readonly onError: ((key: string, e: StoreError) => void) | undefined;
  private readonly dirs = new Map<string, DirState>();

  constructor(opts: DiskSegmentStoreOptions) {
    this.root = path.resolve(opts.root);
    this.maxQueuedBytes = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.log = opts.log.child({ component: 'hls-disk' });
    this.onError = opts.onError;
  }

  /** The directory of a stream; RangeError for a key that is not safe as a path. */
  streamDir(app: string, name: string): string {
    const segs = app.split('/');
    if (!segs.every(validSegment) || !validSegment(name)) {
      throw new RangeError(`not a valid stream key for a path: ${app}/${name}`);
    }
    const dir = path.join(this.root, ...segs, name);
    const rel = path.relative(this.root, dir);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new RangeError(`stream directory escapes the HLS root: ${app}/${name}`);
    }
    return dir;
  }

  open(app: string, name: string): StreamStore {
    const key = `${app}/${name}`;
    const onError = this.onError;
    const dir = this.streamDir(app, name);
    return new DiskStreamStore(
      dir,
      { state: () => this.dirState(dir), peek: () => this.dirs.get(dir) },
      this.log.child({ stream: key }),
      onError ? (e) => onError(key, e) : undefined,
    );
  }

  /** Directories with operations queued or running (for tests and reports). */
  get busyDirs(): number {
    return this.dirs.size;
  }

  /**
   * One queue per directory, shared by every StreamStore opened on it: a stream made anew
   * (after the old one expired or was disposed) must not write before the old one's deletes ran.
   * Forgotten once idle, so the map holds only directories with work in flight.
   */
  private dirState(dir: string): DirState {
    let st = this.dirs.get(dir);
    if (!st) {
      const created: DirState = {
        dirReady: false,
        queue: new WriteQueue(this.maxQueuedBytes, () => {
          if (this.dirs.get(dir) === created) this.dirs.delete(dir);
        }),
      };
      this.dirs.set(dir, created);
      st = created;
    }
    return st;
  }
}

interface DirState {
  readonly queue: WriteQueue;
  /** The directory was created through this queue and not deleted since. */
  dirReady: boolean;
}

interface PlaylistOp extends QueuedOp {
  text: string;
}

class DiskStreamStore implements StreamStore {
  private readonly dir: string;
  /** The directory's shared state: `state` creates it when missing, `peek` does not. */
  private readonly state: () => DirState;
  private readonly peek: () => DirState | undefined;
  private readonly log: Logger;
  private readonly report: ((e: StoreError) => void) | undefined;
  private readonly counts: StreamStoreStats = emptyStats();
  /** Segments queued and not yet on disk: served from here meanwhile. */
  private readonly pending = new Map<string, Buffer>();
  /** Segments on disk (names), for segmentCount. */
  private readonly onDisk = new Set<string>();
  /** A playlist write still last in the queue takes newer text instead of queueing again. */
  private readonly waitingPlaylists = new Map<string, PlaylistOp>();
  /** Writes are being dropped (logged when it starts and when it ends, not per write). */
  private dropping = false;
  private readonly loggedErrors = new Set<string>();

  constructor(
    dir: string,
    dirState: { state: () => DirState; peek: () => DirState | undefined },
    log: Logger,
    report: ((e: StoreError) => void) | undefined,
  ) {
    this.dir = dir;
    this.state = dirState.state;
    this.peek = dirState.peek;
    this.log = log;
    this.report = report;
  }

  writeSegment(name: string, bytes: Buffer): void {
    const file = this.fileFor(name, 'write');
    if (!file) return;
    const ok = this.queue.offer(
      {
        cost: bytes.length,
        run: async () => {
          if (await this.writeFileReported(file, bytes)) this.onDisk.add(name);
          if (this.pending.get(name) === bytes) this.pending.delete(name);
        },
      },
      true,
    );
    if (ok) this.pending.set(name, bytes);
    else this.dropped(name, bytes.length);
  }

  writePlaylist(name: string, text: string): void {
    const file = this.fileFor(name, 'write');
    if (!file) return;
    // Only when nothing was queued after it: a playlist must not overtake the segment it lists.
    const waiting = this.waitingPlaylists.get(name);
    if (waiting && this.queue.isLastWaiting(waiting)) {
      waiting.text = text;
      this.queue.recost(waiting, Buffer.byteLength(text));
      return;
    }
    const op: PlaylistOp = {
      text,
      cost: Buffer.byteLength(text),
      run: async () => {
        if (this.waitingPlaylists.get(name) === op) this.waitingPlaylists.delete(name);
        // Readers see the old playlist or the new one, never a torn one.
        const tmp = `${file}.tmp`;
        if (await this.writeFileReported(tmp, op.text)) await this.renameReported(tmp, file);
      },
    };
    if (this.queue.offer(op, true)) this.waitingPlaylists.set(name, op);
    else this.dropped(name, op.cost);
  }

  deleteSegment(name: string): void {
    const file = this.fileFor(name, 'delete');
    if (!file) return;
    this.pending.delete(name);
    this.queue.offer(
      {
        cost: 0,
        run: async () => {
          this.onDisk.delete(name);
          try {
            await unlink(file);
          } catch (err) {
            if (codeOf(err) !== 'ENOENT') this.failed('delete', file, err);
          }
        },
      },
      false,
    );
  }

  deleteAll(): void {
    this.pending.clear();
    this.queue.offer(
      {
        cost: 0,
        run: async () => {
          this.onDisk.clear();
          this.state().dirReady = false;
          try {
            await rm(this.dir, { recursive: true, force: true });
          } catch (err) {
            this.failed('delete', this.dir, err);
          }
        },
      },
      false,
    );
  }

  async readSegment(name: string): Promise<Buffer | null> {
    const waiting = this.pending.get(name);
    if (waiting) return waiting;
    if (!validSegment(name)) return null;
    return readRegularFile(path.join(this.dir, name));
  }

  get segmentCount(): number {
    return this.onDisk.size + this.pending.size;
  }

  get stats(): Readonly<StreamStoreStats> {
    this.counts.queuedBytes = this.peek()?.queue.queuedBytes ?? 0;
    return this.counts;
  }

  flush(): Promise<void> {
    return this.peek()?.queue.flush() ?? Promise.resolve();
  }

  /** The directory's current queue (a new one once the last went idle). */
  private get queue(): WriteQueue {
    return this.state().queue;
  }

  /** File names are one path segment from the stream-name alphabet, so they stay in `dir`. */
  private fileFor(name: string, op: 'write' | 'delete'): string | null {
    if (validSegment(name)) return path.join(this.dir, name);
    if (op === 'write') this.counts.writeErrors++;
    const error = new Error(`refused file name ${JSON.stringify(name)}`);
    this.failed(op, this.dir, Object.assign(error, { code: 'EINVAL' }));
    return null;
  }

  private dropped(name: string, bytes: number): void {
    this.counts.writesDropped++;
    if (!this.dropping) {
      this.dropping = true;
      this.log.warn(
        { file: name, bytes, queuedBytes: this.queue.queuedBytes },
        'HLS disk writes fall behind: dropping writes while the queue is full',
      );
    }
    const error = Object.assign(new Error(`write queue over its bound, ${name} dropped`), {
      code: QUEUE_FULL,
    });
    this.report?.({ op: 'write', path: path.join(this.dir, name), code: QUEUE_FULL, error });
  }

  private async writeFileReported(file: string, data: Buffer | string): Promise<boolean> {
    const st = this.state();
    if (!st.dirReady) {
      try {
        await mkdir(this.dir, { recursive: true });
        st.dirReady = true;
      } catch (err) {
        this.failed('mkdir', this.dir, err);
        this.counts.writeErrors++;
        return false;
      }
    }
    try {
      await writeFile(file, data);
    } catch (err) {
      this.counts.writeErrors++;
      this.failed('write', file, err);
      return false;
    }
    this.counts.writes++;
    this.counts.bytesWritten += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (this.dropping && this.queue.queuedBytes <= Math.max(data.length, 1024)) {
      this.dropping = false;
      this.log.info({ writesDropped: this.counts.writesDropped }, 'HLS disk writes caught up');
    }
    return true;
  }

  private async renameReported(from: string, to: string): Promise<void> {
    try {
      await rename(from, to);
    } catch (err) {
      this.counts.writeErrors++;
      this.failed('write', to, err);
    }
  }

  private failed(op: StoreError['op'], file: string, err: unknown): void {
    if (op === 'delete') this.counts.deleteErrors++;
    const error = err instanceof Error ? err : new Error(String(err));
    const code = codeOf(err) ?? 'EIO';
    // One line per kind of failure and stream; the counters and the callback see every one.
    const kind = `${op}:${code}`;
    if (!this.loggedErrors.has(kind)) {
      this.loggedErrors.add(kind);
      this.log.warn({ op, file: path.basename(file), code, err: error.message }, 'HLS disk operation failed');
    }
    this.report?.({ op, path: file, code, error });
  }
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A regular file's bytes, or null. Not a symlink, device or FIFO: something planted in the
 * directory (a link to /dev/zero) must not make a read endless.
 */
async function readRegularFile(file: string): Promise<Buffer | null> {
  let fh;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > MAX_READ_BYTES) return null;
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === buf.length ? buf : buf.subarray(0, off);
  } catch {
    return null;
  } finally {
    await fh.close().catch(() => undefined);
  }
}
