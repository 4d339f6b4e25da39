import { FLV_HEADER_SIZE, TAG_HEADER_SIZE, TagType } from '../../libs/flv/index.ts';
import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import { isPlayableKeyFrame } from './keyframe.ts';

/** FLV header + PreviousTagSize0. */
const PREAMBLE = FLV_HEADER_SIZE + 4;
/** Tag header + the two body bytes that tell a key frame from a sequence header. */
const PEEK = TAG_HEADER_SIZE + 2;

/**
 * The least a bench player needs from an HTTP-FLV body: the timestamp of each tag and
 * whether a video tag is a key frame. It reads tag headers where they lie in the socket's
 * buffer and never copies or reassembles bodies; only a header cut by the end of a read (up to
 * 13 bytes) is copied aside. A full FlvReader per viewer would make the load generator, not
 * the server, the bottleneck.
 */
export class FlvTagScanner {
  /** Timestamp of the last audio/video tag header seen, -1 before any. */
  lastTimestampMs = -1;
  /** Called once, for the first video key frame that is not a sequence header. */
  onFirstKeyFrame: (() => void) | null = null;
  /** Called for each audio/video tag, in the push that completed its header. */
  onFrame: ((timestampMs: number) => void) | null = null;

  private preamble = PREAMBLE;
  /** Bytes of the current tag (body + PreviousTagSize) still to skip. */
  private skip = 0;
  private readonly head = Buffer.alloc(PEEK);
  private headLen = 0;
  private sawKey = false;

  /** Scans `data[0, end)`. */
  push(data: Buffer, end = data.length): void {
    let pos = 0;
    if (this.preamble > 0) {
      if (this.preamble === PREAMBLE && end > 0 && data[0] !== 0x46) {
        throw new ProtocolError('FLV_BAD_SIGNATURE', 'HTTP-FLV body does not start with FLV');
      }
      const k = Math.min(this.preamble, end);
      this.preamble -= k;
      pos = k;
    }
    while (pos < end) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, end - pos);
        this.skip -= k;
        pos += k;
      } else if (this.headLen === 0 && end - pos >= PEEK) {
        this.onHeader(data, pos);
        pos += PEEK;
      } else {
        // A header (plus 2 body bytes) cut by the end of a read.
        const k = Math.min(PEEK - this.headLen, end - pos);
        data.copy(this.head, this.headLen, pos, pos + k);
        this.headLen += k;
        pos += k;
        if (this.headLen < PEEK) return;
        this.headLen = 0;
        this.onHeader(this.head, 0);
      }
    }
  }

  private onHeader(h: Buffer, at: number): void {
    const type = h[at]! & 0x1f;
    const size = (h[at + 1]! << 16) | (h[at + 2]! << 8) | h[at + 3]!;
    // FLV spec §E.4.1: TimestampExtended is the upper 8 bits.
    const ts = h[at + 7]! * 0x1000000 + ((h[at + 4]! << 16) | (h[at + 5]! << 8) | h[at + 6]!);
    // Two body bytes were taken already; a body shorter than that borrows PreviousTagSize bytes,
    // which the skip below accounts for.
    this.skip = size + 4 - 2;
    if (type !== TagType.Audio && type !== TagType.Video) return;
    this.lastTimestampMs = ts;
    if (type === TagType.Video && !this.sawKey && size >= 2 && isPlayableKeyFrame(h[at + 11]!, h[at + 12]!)) {
      this.sawKey = true;
      this.onFirstKeyFrame?.();
    }
    this.onFrame?.(ts);
  }
}
