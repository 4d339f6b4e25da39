import { ProtocolError } from '../errors/protocol-error.ts';
import { FLV_HEADER_SIZE, PREVIOUS_TAG_SIZE_BYTES, parseFlvHeader } from './header.ts';
import type { FlvHeader } from './header.ts';
import { TAG_HEADER_SIZE } from './tag.ts';
import type { FlvTag } from './tag.ts';

/**
 * Default cap on one tag's DataSize. The field allows 16 MiB; a real key frame is far
 * below 8 MiB, and the cap bounds what one connection can make us buffer before a tag
 * is complete.
 */
export const DEFAULT_MAX_TAG_SIZE = 8 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

const State = {
  Header: 0,
  SkipHeader: 1,
  PreviousTagSize0: 2,
  TagHeader: 3,
  TagBody: 4,
  PreviousTagSize: 5,
} as const;
type State = (typeof State)[keyof typeof State];

/**
 * Sans-I/O reader of an FLV byte stream (HTTP-FLV pull, FLV files): the header first,
 * then tags. Feed it whatever the socket delivers; any split of the same bytes yields
 * the same tags.
 *
 * Tag bodies are zero-copy views of the pushed buffers when a body lies inside one
 * pushed chunk, and fresh copies when it spans chunks. Views keep the pushed chunk alive
 * and see later writes to it, so callers must not reuse buffers they pushed.
 *
 * A tag is returned as soon as its body is complete; its PreviousTagSize is checked when
 * it arrives. After a ProtocolError the reader is dead and rethrows it on every push.
 */
export class FlvReader {
  private readonly maxTagSize: number;
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private state: State = State.Header;
  private skipRemaining = 0;
  private tagType = 0;
  private tagTimestampMs = 0;
  private tagDataSize = 0;
  private parsedHeader: FlvHeader | null = null;
  private failure: ProtocolError | null = null;

  constructor(opts: { maxTagSize?: number } = {}) {
    this.maxTagSize = opts.maxTagSize ?? DEFAULT_MAX_TAG_SIZE;
  }

  /** The FLV header's flags, once its 9 bytes have arrived. */
  get header(): { hasAudio: boolean; hasVideo: boolean } | null {
    return this.parsedHeader;
  }

  push(data: Buffer): FlvTag[] {
    if (this.failure) throw this.failure;
    if (data.length > 0) {
      this.chunks.push(data);
      this.buffered += data.length;
    }
    const tags: FlvTag[] = [];
    try {
      this.drain(tags);
    } catch (err) {
      if (err instanceof ProtocolError) this.failure = err;
      throw err;
    }
    return tags;
  }

  private drain(tags: FlvTag[]): void {
    for (;;) {
      switch (this.state) {
        case State.Header: {
          if (this.buffered < FLV_HEADER_SIZE) return;
          const { hasAudio, hasVideo, dataOffset } = parseFlvHeader(this.take(FLV_HEADER_SIZE));
          this.parsedHeader = { hasAudio, hasVideo };
          this.skipRemaining = dataOffset - FLV_HEADER_SIZE;
          this.state = State.SkipHeader;
          break;
        }
        case State.SkipHeader: {
          // DataOffset > 9 means header bytes from a later version; skip them unread.
          const n = Math.min(this.skipRemaining, this.buffered);
          if (n > 0) this.take(n);
          this.skipRemaining -= n;
          if (this.skipRemaining > 0) return;
          this.state = State.PreviousTagSize0;
          break;
        }
        case State.PreviousTagSize0:
          // Always 0 per the spec; not checked, as other servers do not check it either.
          if (this.buffered < PREVIOUS_TAG_SIZE_BYTES) return;
          this.take(PREVIOUS_TAG_SIZE_BYTES);
          this.state = State.TagHeader;
          break;
        case State.TagHeader: {
          if (this.buffered < TAG_HEADER_SIZE) return;
          const h = this.take(TAG_HEADER_SIZE);
          this.tagType = h[0]! & 0x1f; // top bits: reserved and Filter (encryption)
          this.tagDataSize = h.readUIntBE(1, 3);
          this.tagTimestampMs = h[7]! * 0x1000000 + h.readUIntBE(4, 3);
          if (this.tagDataSize > this.maxTagSize) {
            throw new ProtocolError(
              'FLV_TAG_TOO_LARGE',
              `FLV tag of ${this.tagDataSize} bytes exceeds the limit of ${this.maxTagSize}`,
            );
          }
          this.state = State.TagBody;
          break;
        }
        case State.TagBody:
          if (this.buffered < this.tagDataSize) return;
          tags.push({
            type: this.tagType,
            timestampMs: this.tagTimestampMs,
            body: this.take(this.tagDataSize),
          });
          this.state = State.PreviousTagSize;
          break;
        case State.PreviousTagSize: {
          if (this.buffered < PREVIOUS_TAG_SIZE_BYTES) return;
          const previousTagSize = this.take(PREVIOUS_TAG_SIZE_BYTES).readUInt32BE(0);
          if (previousTagSize !== TAG_HEADER_SIZE + this.tagDataSize) {
            throw new ProtocolError(
              'FLV_BAD_PREVIOUS_TAG_SIZE',
              `FLV PreviousTagSize ${previousTagSize} does not match tag size ${TAG_HEADER_SIZE + this.tagDataSize}`,
            );
          }
          this.state = State.TagHeader;
          break;
        }
      }
    }
  }

  /** Removes `n` buffered bytes (n <= buffered): a view when they lie in one chunk, else a copy. */
  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const k = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, k);
      filled += k;
      if (k === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(k);
    }
    return out;
  }
}
