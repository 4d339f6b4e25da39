import type { MediaMessage } from './media.ts';
import { MediaKind } from './media.ts';

/**
 * The frames since the last video key frame, so a new viewer starts on a key frame at once.
 * Bounded by bytes: a GOP over the limit is dropped (and caching resumes at the next key frame)
 * rather than growing without bound on streams with very long key frame intervals.
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

  get byteLength(): number {
    return this.bytes;
  }

  push(msg: MediaMessage): void {
    if (msg.kind === MediaKind.Video && msg.isKeyFrame) {
      this.frames = [];
      this.bytes = 0;
      this.valid = this.maxBytes > 0;
    }
    if (!this.valid) return;
    this.bytes += msg.payload.length;
    if (this.bytes > this.maxBytes) {
      this.clear();
      return;
    }
    this.frames.push(msg);
  }

  clear(): void {
    this.frames = [];
    this.bytes = 0;
    this.valid = false;
  }
}
