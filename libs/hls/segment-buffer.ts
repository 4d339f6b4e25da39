/** Smallest first capacity of a segment: a few frames of a low-bitrate stream. */
const MIN_CAPACITY = 16 * 1024;
/** Capacity of a stream's first segment, before there is a last one to size it from. */
const FIRST_CAPACITY = 64 * 1024;

/**
 * The bytes of one HLS segment while it is built, in one Buffer that the muxer writes its packets
 * into (TsMuxer.output): no Buffer per frame and no concatenation when the segment closes. The
 * first capacity is the caller's estimate (the last segment's size and an eighth); past it the
 * buffer grows by a quarter, copying what it holds. finish() hands over the bytes: the buffer
 * itself when at most a quarter of it is unused (always after a growth), else an exact copy (a
 * segment more than a tenth smaller than the last), so a stored segment reserves at most 5/4 of
 * its size. Every backing store is the segment's own (allocUnsafeSlow), so
 * `bytes.buffer.byteLength` is what a stored segment reserves.
 */
export class SegmentBuffer {
  private buf: Buffer;
  private len = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(MIN_CAPACITY, capacity));
  }

  /** The capacity for a stream's next segment given its last one's size (0: none yet). */
  static capacityAfter(lastBytes: number): number {
    return lastBytes > 0 ? lastBytes + (lastBytes >>> 3) : FIRST_CAPACITY;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  /** Bytes reserved now. */
  get capacity(): number {
    return this.buf.length;
  }

  /**
   * The next `size` bytes of the segment, to be written before the next alloc() (a later one may
   * move the segment to a larger buffer, copying what is in it then).
   */
  alloc(size: number): Buffer {
    const end = this.len + size;
    if (end > this.buf.length) this.grow(end);
    const out = this.buf.subarray(this.len, end);
    this.len = end;
    return out;
  }

  /** Forgets what was written after the first `n` bytes (a mux call that threw). */
  truncate(n: number): void {
    if (n < this.len) this.len = Math.max(0, n);
  }

  /** Copies `b` in (for a muxer that returns its own Buffers). */
  append(b: Buffer): void {
    b.copy(this.alloc(b.length));
  }

  /** The segment's bytes; the SegmentBuffer must not be used after. */
  finish(): Buffer {
    const len = this.len;
    const buf = this.buf;
    if (buf.length - len <= len >>> 2) return buf.subarray(0, len);
    const exact = Buffer.allocUnsafeSlow(len);
    buf.copy(exact, 0, 0, len);
    return exact;
  }

  private grow(needed: number): void {
    const next = Buffer.allocUnsafeSlow(Math.max(needed, this.buf.length + (this.buf.length >>> 2)));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}
