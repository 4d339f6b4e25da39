import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import { MessageType } from '../../libs/rtmp/message-types.ts';

/** RTMP spec §5.4.1: the chunk size is 128 until a Set Chunk Size arrives. */
const INITIAL_CHUNK_SIZE = 128;
/** Message header size by fmt (§5.3.1.2). */
const MESSAGE_HEADER_SIZE = [11, 7, 3, 0] as const;
/** 3-byte basic header + 11-byte message header + 4-byte extended timestamp. */
const MAX_HEADER_SIZE = 18;
const EXTENDED_TIMESTAMP = 0xffffff;
/**
 * Messages other than audio and video (commands, metadata, control) are copied whole, since
 * their AMF is parsed; a player gets a few small ones. 64 KiB is far above any onStatus or
 * onMetaData and stops a confused peer from making the bench buffer megabytes per player.
 */
export const MAX_OTHER_MESSAGE_BYTES = 64 * 1024;
/** Sluice uses 5 chunk streams; ChunkReader allows 64, so do we. */
const MAX_CHUNK_STREAMS = 64;
/** Same bound as ChunkReader: a message is at most 2^24-1 bytes, so bigger sizes are pointless. */
const MAX_CHUNK_SIZE = 16 * 1024 * 1024;

/** Header state of one chunk stream (§5.3.1.2: fmt 1-3 headers reuse the previous one). */
interface ChunkStream {
  timestamp: number;
  /** What a fmt 3 chunk that starts a new message adds to the timestamp. */
  delta: number;
  length: number;
  typeId: number;
  streamId: number;
  /** The last fmt 0-2 header had an extended timestamp, so fmt 3 chunks carry one too (§5.3.1.3). */
  extended: boolean;
  /** A message is under way on this chunk stream. */
  open: boolean;
  received: number;
  /** Audio/video: the first two payload bytes (-1 until read) and whether onMedia has run. */
  b0: number;
  b1: number;
  reported: boolean;
  /** Other messages: the payload being copied. */
  payload: Buffer | null;
}

const isMedia = (typeId: number): boolean => typeId === MessageType.Audio || typeId === MessageType.Video;

/**
 * The least an RTMP bench player needs from a chunk stream (RTMP spec §5.3), fed whatever TCP
 * delivers. It follows chunk headers (fmt 0-3, 1-3 byte basic headers, extended timestamps,
 * Set Chunk Size and Abort) and, for audio and video, reads only the type, timestamp and first
 * two payload bytes (enough to tell a key frame) where they lie: no payload is copied or
 * reassembled. Other messages (commands, control, metadata) are copied whole, up to
 * MAX_OTHER_MESSAGE_BYTES, and handed over complete. A header cut by the end of a read (at most
 * 18 bytes) is copied aside. RtmpClient's ChunkReader reassembles every message into a new
 * Buffer, which a thousand players cannot afford.
 *
 * Aggregate messages (type 22) are refused (RTMP_AGGREGATE_UNSUPPORTED): Sluice never sends
 * them to players, and a scanner that skipped them would show a player that stopped receiving.
 */
export class RtmpChunkScanner {
  /**
   * An audio (8) or video (9) message, once its first two payload bytes are read (or it ended
   * sooner: -1 for a missing byte), in the push that brought them.
   */
  onMedia: ((typeId: number, streamId: number, timestampMs: number, b0: number, b1: number) => void) | null =
    null;
  /** Any other message, complete; `payload` is the scanner's copy and stays valid. */
  onMessage: ((typeId: number, streamId: number, payload: Buffer) => void) | null = null;

  private readonly streams = new Map<number, ChunkStream>();
  private size = INITIAL_CHUNK_SIZE;
  private current: ChunkStream | null = null;
  /** Payload bytes left in the current chunk. */
  private chunkLeft = 0;
  private readonly stash = Buffer.alloc(MAX_HEADER_SIZE);
  private stashLen = 0;

  /** The incoming chunk size (Set Chunk Size applied). */
  get chunkSize(): number {
    return this.size;
  }

  /** Scans `data[0, end)`. Throws ProtocolError on a malformed chunk stream. */
  push(data: Buffer, end = data.length): void {
    let pos = this.stashLen > 0 ? this.finishStashedHeader(data, end) : 0;
    while (pos < end) {
      if (this.chunkLeft > 0) {
        pos = this.payload(data, pos, end);
        continue;
      }
      const used = this.header(data, pos, end);
      if (used === 0) {
        data.copy(this.stash, 0, pos, end);
        this.stashLen = end - pos;
        return;
      }
      pos += used;
    }
  }

  /** Completes a header cut by the end of the last read; returns how many bytes of `data` it used. */
  private finishStashedHeader(data: Buffer, end: number): number {
    const had = this.stashLen;
    const take = Math.min(MAX_HEADER_SIZE - had, end);
    data.copy(this.stash, had, 0, take);
    const used = this.header(this.stash, 0, had + take);
    if (used === 0) {
      this.stashLen = had + take;
      return end;
    }
    this.stashLen = 0;
    return used - had;
  }

  /** Parses one chunk header at `pos`; returns its length, or 0 (no state changed) if `end` cuts it. */
  private header(buf: Buffer, pos: number, end: number): number {
    const avail = end - pos;
    if (avail < 1) return 0;
    const b0 = buf[pos]!;
    const fmt = b0 >> 6;
    // §5.3.1.1: csid 0 and 1 announce the 2- and 3-byte forms.
    let csid = b0 & 0x3f;
    let basic = 1;
    if (csid === 0) {
      if (avail < 2) return 0;
      csid = 64 + buf[pos + 1]!;
      basic = 2;
    } else if (csid === 1) {
      if (avail < 3) return 0;
      csid = 64 + buf[pos + 1]! + buf[pos + 2]! * 256;
      basic = 3;
    }
    const cs = this.streams.get(csid);
    if (cs === undefined && fmt !== 0) {
      throw new ProtocolError(
        'RTMP_CHUNK_NO_PREVIOUS_HEADER',
        `fmt ${fmt} chunk on new chunk stream ${csid}`,
      );
    }
    const headerLen = basic + MESSAGE_HEADER_SIZE[fmt as 0 | 1 | 2 | 3];
    if (avail < headerLen) return 0;
    const p = pos + basic;
    const field = fmt < 3 ? (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]! : 0;
    const extended = fmt < 3 ? field === EXTENDED_TIMESTAMP : cs!.extended;
    const total = headerLen + (extended ? 4 : 0);
    if (avail < total) return 0;

    const s = cs ?? this.newStream(csid);
    if (fmt === 3) {
      if (s.open) {
        // A continuation: an extended timestamp here repeats the first chunk's.
        this.enterChunk(s);
        return total;
      }
      // A new message like the last one on this chunk stream, `delta` later (§5.3.1.2.4).
      s.timestamp = (s.timestamp + s.delta) >>> 0;
      this.startMessage(s);
      return total;
    }
    if (s.open) {
      throw new ProtocolError(
        'RTMP_CHUNK_INTERLEAVED_HEADER',
        `fmt ${fmt} chunk on chunk stream ${csid} while a message is ${s.received}/${s.length} bytes in`,
      );
    }
    if (fmt < 2) {
      s.length = (buf[p + 3]! << 16) | (buf[p + 4]! << 8) | buf[p + 5]!;
      s.typeId = buf[p + 6]!;
      // §5.3.1.2.1: the message stream id is little-endian.
      if (fmt === 0) s.streamId = buf.readUInt32LE(p + 7);
    }
    const value = extended ? buf.readUInt32BE(pos + headerLen) : field;
    // After fmt 0, a fmt 3 new message repeats the fmt 0 timestamp as its delta (§5.3.1.2.4).
    s.delta = value;
    s.timestamp = fmt === 0 ? value : (s.timestamp + value) >>> 0;
    s.extended = extended;
    this.startMessage(s);
    return total;
  }

  private newStream(csid: number): ChunkStream {
    if (this.streams.size >= MAX_CHUNK_STREAMS) {
      throw new ProtocolError('RTMP_TOO_MANY_CHUNK_STREAMS', `chunk stream ${csid} is one too many`);
    }
    const s: ChunkStream = {
      timestamp: 0,
      delta: 0,
      length: 0,
      typeId: 0,
      streamId: 0,
      extended: false,
      open: false,
      received: 0,
      b0: -1,
      b1: -1,
      reported: false,
      payload: null,
    };
    this.streams.set(csid, s);
    return s;
  }

  private startMessage(s: ChunkStream): void {
    if (s.typeId === MessageType.Aggregate) {
      throw new ProtocolError(
        'RTMP_AGGREGATE_UNSUPPORTED',
        'aggregate message: the bench player does not split them',
      );
    }
    s.open = true;
    s.received = 0;
    s.b0 = -1;
    s.b1 = -1;
    s.reported = false;
    if (!isMedia(s.typeId)) {
      if (s.length > MAX_OTHER_MESSAGE_BYTES) {
        throw new ProtocolError(
          'RTMP_MESSAGE_TOO_LARGE',
          `type ${s.typeId} message of ${s.length} bytes, the bench player copies at most ${MAX_OTHER_MESSAGE_BYTES}`,
        );
      }
      s.payload = Buffer.allocUnsafe(s.length);
    }
    if (s.length === 0) this.endMessage(s);
    else this.enterChunk(s);
  }

  private enterChunk(s: ChunkStream): void {
    this.current = s;
    this.chunkLeft = Math.min(this.size, s.length - s.received);
  }

  /** Consumes chunk payload at `pos`; returns the new position. */
  private payload(data: Buffer, pos: number, end: number): number {
    const s = this.current!;
    const n = Math.min(this.chunkLeft, end - pos);
    if (s.payload !== null) {
      data.copy(s.payload, s.received, pos, pos + n);
    } else if (!s.reported) {
      if (s.received === 0) s.b0 = data[pos]!;
      if (s.received + n >= 2) {
        s.b1 = data[pos + 1 - s.received]!;
        s.reported = true;
        this.onMedia?.(s.typeId, s.streamId, s.timestamp, s.b0, s.b1);
      }
    }
    s.received += n;
    this.chunkLeft -= n;
    if (s.received === s.length) this.endMessage(s);
    return pos + n;
  }

  private endMessage(s: ChunkStream): void {
    s.open = false;
    if (this.current === s) this.current = null;
    this.chunkLeft = 0;
    const payload = s.payload;
    if (payload === null) {
      if (!s.reported) this.onMedia?.(s.typeId, s.streamId, s.timestamp, s.b0, s.b1);
      return;
    }
    s.payload = null;
    if (s.typeId === MessageType.SetChunkSize) this.setChunkSize(payload);
    else if (s.typeId === MessageType.Abort) this.abort(payload);
    this.onMessage?.(s.typeId, s.streamId, payload);
  }

  /** §5.4.1: 31 bits; applies to the next chunk. */
  private setChunkSize(payload: Buffer): void {
    const size = payload.length >= 4 ? payload.readUInt32BE(0) : 0;
    if (size < 1 || size > MAX_CHUNK_SIZE) {
      throw new ProtocolError(
        'RTMP_BAD_CHUNK_SIZE',
        `set chunk size ${size} is outside 1..${MAX_CHUNK_SIZE}`,
      );
    }
    this.size = size;
  }

  /** §5.4.2: drop the partial message of a chunk stream. */
  private abort(payload: Buffer): void {
    if (payload.length < 4) return;
    const s = this.streams.get(payload.readUInt32BE(0));
    if (s === undefined || !s.open) return;
    s.open = false;
    s.payload = null;
  }
}
