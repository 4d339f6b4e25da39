import type { MediaMessage } from './media.ts';
import { MediaKind } from './media.ts';

/**
 * The frames since the last video key frame, so a new viewer starts on a key frame at once.
 * Bounded by the bytes the cached messages really hold: payloads and every serialized copy
 * (one per output format viewers asked for). A GOP over the limit is dropped, and caching
 * resumes at the next key frame, rather than growing without bound on streams with very long
 * key frame intervals.
 */
export class GopCache {
  private frames: MediaMessage[] = [];
  private bytes = 0;
  private valid = false;
  private readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get messages(): readonly MediaMessage[] {
    return this.valid ? this.frames : [];
  }

  /** Bytes held by the cached messages, as of the last push or recount. */
  get byteLength(): number {
    return this.bytes;
  }

  /** Adds a message once it has been serialized for the current viewers. */
  push(msg: MediaMessage): void {
    if (msg.kind === MediaKind.Video && msg.isKeyFrame) {
      this.frames = [];
      this.bytes = 0;
      this.valid = this.maxBytes > 0;
    }
    if (!this.valid) return;
    this.bytes += msg.heldBytes;
    if (this.bytes > this.maxBytes) {
      this.clear();
      return;
    }
    this.frames.push(msg);
  }

  /**
   * Re-counts after cached messages gained serialized copies (a viewer of a new format
   * started from the cache); drops the cache if that put it over the limit.
   */
  recount(): void {
    if (!this.valid) return;
    let n = 0;
    for (const m of this.frames) n += m.heldBytes;
    this.bytes = n;
    if (n > this.maxBytes) this.clear();
  }

  clear(): void {
    this.frames = [];
    this.bytes = 0;
    this.valid = false;
  }
}
