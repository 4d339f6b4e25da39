/**
 * Where a node keeps HLS segments (and, on disk, playlists). One SegmentStore per node; each
 * stream opens its own StreamStore. Writes are fire-and-forget on the media path: they never
 * throw and never wait; failures are counted in `stats` and reported through the store's
 * error callback.
 */
export interface SegmentStore {
  readonly kind: 'memory' | 'disk';
  /** The store of one stream key `app/name` (already validated by libs/names). */
  open(app: string, name: string): StreamStore;
}

export interface StreamStoreStats {
  /** Segments and playlists stored (counted when the write completed). */
  writes: number;
  bytesWritten: number;
  /** Writes that failed (ENOSPC, EACCES, ...). */
  writeErrors: number;
  /** Writes refused because the stream's write queue was over its byte bound. */
  writesDropped: number;
  /** Deletes that failed for another reason than the file being gone already. */
  deleteErrors: number;
  /** Bytes of writes waiting in the queue (0 for memory). */
  queuedBytes: number;
}

export interface StreamStore {
  writeSegment(name: string, bytes: Buffer): void;
  /** A playlist; on disk replaced atomically (temporary file + rename). Memory ignores it. */
  writePlaylist(name: string, text: string): void;
  deleteSegment(name: string): void;
  /** Every segment and playlist of the stream. */
  deleteAll(): void;
  /** A stored segment (also one still waiting to be written), or null. */
  readSegment(name: string): Promise<Buffer | null>;
  /** Names of the segments held (memory) or written and not deleted (disk). */
  readonly segmentCount: number;
  readonly stats: Readonly<StreamStoreStats>;
  /** Resolves once every queued write and delete has been carried out (shutdown, tests). */
  flush(): Promise<void>;
}

/** What a store reports when a disk operation fails. */
export interface StoreError {
  readonly op: 'write' | 'delete' | 'mkdir';
  readonly path: string;
  /** errno code (`ENOSPC`), `EINVAL` for a name the store refuses, `QUEUE_FULL` for a dropped write. */
  readonly code: string;
  readonly error: Error;
}

export function emptyStats(): StreamStoreStats {
  return { writes: 0, bytesWritten: 0, writeErrors: 0, writesDropped: 0, deleteErrors: 0, queuedBytes: 0 };
}
