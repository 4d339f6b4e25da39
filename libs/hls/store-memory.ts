import { emptyStats, type SegmentStore, type StreamStore, type StreamStoreStats } from './store.ts';

/**
 * Segments in memory, a Map of name -> Buffer per stream. Playlists are not stored: the HlsStream
 * serves its own text. Memory stays bounded because the owner deletes segments that left the
 * window (and everything some time after the stream ended); see cleanup.ts.
 */
export class MemorySegmentStore implements SegmentStore {
  readonly kind = 'memory';

  open(_app: string, _name: string): StreamStore {
    return new MemoryStreamStore();
  }
}

class MemoryStreamStore implements StreamStore {
  private readonly segments = new Map<string, Buffer>();
  private readonly counts: StreamStoreStats = emptyStats();

  writeSegment(name: string, bytes: Buffer): void {
    this.segments.set(name, bytes);
    this.counts.writes++;
    this.counts.bytesWritten += bytes.length;
  }

  writePlaylist(_name: string, _text: string): void {}

  deleteSegment(name: string): void {
    this.segments.delete(name);
  }

  deleteAll(): void {
    this.segments.clear();
  }

  readSegment(name: string): Promise<Buffer | null> {
    return Promise.resolve(this.segments.get(name) ?? null);
  }

  get segmentCount(): number {
    return this.segments.size;
  }

  /**
   * Bytes reserved (for memory reports): the memory behind the segments, each backing store once
   * (a segment may sit in a larger buffer, see SegmentBuffer; a small pooled one counts its pool).
   */
  get heldBytes(): number {
    const stores = new Set<ArrayBufferLike>();
    let n = 0;
    for (const b of this.segments.values()) {
      if (stores.has(b.buffer)) continue;
      stores.add(b.buffer);
      n += Math.max(b.length, b.buffer.byteLength);
    }
    return n;
  }

  get stats(): Readonly<StreamStoreStats> {
    return this.counts;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }
}
