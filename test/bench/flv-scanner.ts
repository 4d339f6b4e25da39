import { FLV_HEADER_SIZE, TAG_HEADER_SIZE, TagType } from '../../libs/flv/index.ts';
import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import { isPlayableKeyFrame } from './keyframe.ts';

/** FLV header + PreviousTagSize0. */
const PREAMBLE = FLV_HEADER_SIZE + 4;
/** Tag header + the two body bytes that tell a key frame from a sequence header. */
const PEEK = TAG_HEADER_SIZE + 2;

/**
 * The least a bench player needs from an HTTP-FLV body: the timestamp of each tag and
 * whether a video tag is a key frame. It never copies or reassembles bodies; it only
 * holds up to 13 header bytes that straddle socket reads. A full FlvReader per viewer
 * would make the load generator, not the server, the bottleneck.
 */
export class FlvTagScanner {
  /** Timestamp of the last audio/video tag header seen, -1 before any. */
  lastTimestampMs = -1;
  /** Called once, for the first video key frame that is not a sequence header. */
  onFirstKeyFrame: (() => void) | null = null;

  private preamble = PREAMBLE;
  /** Bytes of the current tag (body + PreviousTagSize) still to skip. */
  private skip = 0;
  private readonly head = Buffer.alloc(PEEK);
  private headLen = 0;
  private sawKey = false;

  push(data: Buffer): void {
    let pos = 0;
    const n = data.length;
    if (this.preamble > 0) {
      if (this.preamble === PREAMBLE && n > 0 && data[0] !== 0x46) {
        throw new ProtocolError('FLV_BAD_SIGNATURE', 'HTTP-FLV body does not start with FLV');
      }
      const k = Math.min(this.preamble, n);
      this.preamble -= k;
      pos = k;
    }
    while (pos < n) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, n - pos);
        this.skip -= k;
        pos += k;
        continue;
      }
      // Collect a tag header (plus 2 body bytes) possibly across reads.
      const k = Math.min(PEEK - this.headLen, n - pos);
      data.copy(this.head, this.headLen, pos, pos + k);
      this.headLen += k;
      pos += k;
      if (this.headLen < PEEK) return;
      this.onHeader();
    }
  }

  private onHeader(): void {
    const h = this.head;
    const type = h[0]! & 0x1f;
    const size = h.readUIntBE(1, 3);
    const ts = h[7]! * 0x1000000 + h.readUIntBE(4, 3);
    // Two body bytes were taken already; a body shorter than that borrows PreviousTagSize bytes,
    // which the skip below accounts for.
    this.skip = size + 4 - 2;
    this.headLen = 0;
    if (type === TagType.Audio || type === TagType.Video) this.lastTimestampMs = ts;
    if (type === TagType.Video && !this.sawKey && size >= 2 && isPlayableKeyFrame(h[11]!, h[12]!)) {
      this.sawKey = true;
      this.onFirstKeyFrame?.();
    }
  }
}
