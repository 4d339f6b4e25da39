import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import { TagType } from '../../libs/flv/index.ts';

/** A tag as the checker saw it: type, timestamp and (at most) its first two body bytes. */
export type TagSink = (type: number, timestampMs: number, b0: number, b1: number, size: number) => void;

/** Largest tag body a soak stream can carry (an FLV tag's size field is 24 bits anyway). */
const MAX_TAG_BYTES = 4 * 1024 * 1024;

const Phase = { Header: 0, PrevSize: 1, TagHeader: 2, Peek: 3, Skip: 4 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/**
 * Checks an FLV byte stream as it arrives (HTTP-FLV body, WebSocket-FLV messages) without
 * keeping it: the 9-byte header (signature, version 1, header size 9), PreviousTagSize0 = 0, then
 * every tag: a known type with no reserved bits, a sane size, and a PreviousTagSize equal to
 * 11 + size (FLV spec v10 annex E.3). Only fixed-size pieces that straddle reads are copied.
 * Anything else raises ProtocolError: delivery is broken.
 */
export class FlvStreamCheck {
  tags = 0;
  private phase: Phase = Phase.Header;
  private readonly scratch = Buffer.alloc(11);
  private have = 0;
  private skip = 0;
  private expectedPrev = 0;
  private tagType = 0;
  private tagSize = 0;
  private tagTs = 0;
  private readonly onTag: TagSink;

  constructor(onTag: TagSink) {
    this.onTag = onTag;
  }

  get headerSeen(): boolean {
    return this.phase !== Phase.Header;
  }

  push(data: Buffer): void {
    let pos = 0;
    while (pos < data.length) {
      if (this.phase === Phase.Skip) {
        const k = Math.min(this.skip, data.length - pos);
        this.skip -= k;
        pos += k;
        if (this.skip === 0) this.phase = Phase.PrevSize;
        continue;
      }
      const want = this.wanted();
      const k = Math.min(want - this.have, data.length - pos);
      data.copy(this.scratch, this.have, pos, pos + k);
      this.have += k;
      pos += k;
      if (this.have === want) {
        this.have = 0;
        this.complete();
      }
    }
  }

  private wanted(): number {
    switch (this.phase) {
      case Phase.Header:
        return 9;
      case Phase.PrevSize:
        return 4;
      case Phase.TagHeader:
        return 11;
      default:
        return Math.min(2, this.tagSize);
    }
  }

  private complete(): void {
    const s = this.scratch;
    switch (this.phase) {
      case Phase.Header:
        if (s[0] !== 0x46 || s[1] !== 0x4c || s[2] !== 0x56)
          throw new ProtocolError('FLV_BAD_SIGNATURE', 'stream does not start with FLV');
        if (s[3] !== 1 || s.readUInt32BE(5) !== 9)
          throw new ProtocolError('FLV_BAD_HEADER', `FLV version ${s[3]}, header size ${s.readUInt32BE(5)}`);
        this.phase = Phase.PrevSize;
        return;
      case Phase.PrevSize: {
        const prev = s.readUInt32BE(0);
        if (prev !== this.expectedPrev)
          throw new ProtocolError(
            'FLV_BAD_PREVIOUS_TAG_SIZE',
            `PreviousTagSize ${prev} after tag ${this.tags}, expected ${this.expectedPrev}`,
          );
        this.phase = Phase.TagHeader;
        return;
      }
      case Phase.TagHeader: {
        const type = s[0]!;
        if ((type & 0xe0) !== 0 || ![TagType.Audio, TagType.Video, TagType.Script].includes(type as 8))
          throw new ProtocolError('FLV_BAD_TAG_TYPE', `tag ${this.tags + 1} has type byte ${type}`);
        this.tagType = type;
        this.tagSize = s.readUIntBE(1, 3);
        if (this.tagSize > MAX_TAG_BYTES)
          throw new ProtocolError('FLV_TAG_TOO_LARGE', `tag of ${this.tagSize} bytes`);
        // Timestamp: 24 bits, then the extended upper 8 bits (annex E.4.1).
        this.tagTs = s[7]! * 0x1000000 + s.readUIntBE(4, 3);
        this.expectedPrev = 11 + this.tagSize;
        this.phase = Phase.Peek;
        if (this.tagSize === 0) this.endPeek(0, 0);
        return;
      }
      default:
        this.endPeek(s[0]!, this.tagSize > 1 ? s[1]! : 0);
    }
  }

  private endPeek(b0: number, b1: number): void {
    this.tags++;
    this.onTag(this.tagType, this.tagTs, b0, b1, this.tagSize);
    this.skip = this.tagSize - Math.min(2, this.tagSize);
    this.phase = this.skip > 0 ? Phase.Skip : Phase.PrevSize;
  }
}
