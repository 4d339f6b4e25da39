import { ProtocolError } from '../errors/protocol-error.ts';
import { parseU32Control } from './control.ts';
import { MessageType } from './message-types.ts';
import type { RtmpMessage } from './message-types.ts';
import { MessageAssembler, nodeBudgetError } from './message-assembly.ts';
import type { Assembly, InputCharge } from './message-assembly.ts';

export type { InputCharge } from './message-assembly.ts';

export interface ChunkReaderLimits {
  /**
   * Largest Set Chunk Size we accept. The spec allows up to 2^31-1, but a message is at most
   * 2^24-1 bytes, so anything above 16 MiB only matters to a peer probing us.
   */
  maxChunkSize: number;
  /** Largest message length a header may declare. Nothing is allocated for it until payload arrives. */
  maxMessageSize: number;
  /** Distinct chunk stream ids with state; each may hold a partial message. */
  maxChunkStreams: number;
  /**
   * Bytes received of incomplete messages, all chunk streams together: what a peer must really
   * send, not what its headers declare. Checked at each chunk header, before its payload, so
   * the outcome never depends on how TCP split the stream. (Memory held for them: see
   * MessageAssembler.)
   */
  maxBufferedBytes: number;
}

const DEFAULT_LIMITS: ChunkReaderLimits = {
  maxChunkSize: 16 * 1024 * 1024,
  maxMessageSize: 8 * 1024 * 1024,
  maxChunkStreams: 64,
  maxBufferedBytes: 16 * 1024 * 1024,
};

const UNLIMITED: InputCharge = { tryCharge: () => true, release: () => undefined };

/** RTMP spec §5.4.1: the chunk size is 128 until a Set Chunk Size arrives. */
const INITIAL_CHUNK_SIZE = 128;
/** Message header size by fmt (RTMP spec §5.3.1.2). */
const MESSAGE_HEADER_SIZE = [11, 7, 3, 0] as const;
/** 3-byte basic header + 11-byte message header + 4-byte extended timestamp. */
const MAX_HEADER_SIZE = 18;
const EXTENDED_TIMESTAMP = 0xffffff;

/** Header state of one chunk stream, kept across messages for fmt 1/2/3 compression. */
interface ChunkStream extends Assembly {
  readonly csid: number;
  timestamp: number;
  /** Delta applied by a fmt 3 chunk that starts a new message (spec §5.3.1.2.4). */
  delta: number;
  typeId: number;
  streamId: number;
  /** The last fmt 0/1/2 header used an extended timestamp, so fmt 3 chunks carry one too. */
  extended: boolean;
}

/**
 * Sans-I/O RTMP chunk stream parser (RTMP spec §5.3): feed it whatever TCP delivers, get back
 * complete messages. Set Chunk Size and Abort are applied here, as soon as they complete, and
 * also emitted. Control messages are honoured on any chunk stream, not only csid 2, as other
 * servers do.
 *
 * Every emitted payload is a fresh exact-size Buffer with its own memory (one copy at ingest),
 * because messages live in GOP caches for seconds and views would pin socket read buffers.
 * Memory follows the bytes that arrived, never a declared length alone (MessageAssembler): a peer
 * that declares 8 MiB and sends one byte costs a few hundred bytes. Bytes of incomplete messages
 * are bounded by maxBufferedBytes (RTMP_BUFFER_LIMIT); the memory kept for them between pushes,
 * stashed header bytes included, is charged to an optional node-wide InputCharge
 * (RTMP_NODE_INPUT_BUDGET).
 *
 * A fmt 0/1/2 header on a chunk stream whose message is still incomplete is rejected
 * (RTMP_CHUNK_INTERLEAVED_HEADER) rather than silently dropping the partial message: no
 * conforming sender does it, and the only way to drop a partial message is Abort.
 *
 * After a throw the reader is unusable: every later push rethrows the same error. What it
 * still holds stays charged; the owner of the charge releases it with the connection.
 */
export class ChunkReader {
  private readonly limits: ChunkReaderLimits;
  private readonly charge: InputCharge;
  private readonly streams = new Map<number, ChunkStream>();
  private size = INITIAL_CHUNK_SIZE;
  /** Chunk stream whose chunk payload is being read, and how many bytes of it remain. */
  private current: ChunkStream | null = null;
  private chunkLeft = 0;
  /** Header bytes that arrived at the end of a push, completed on the next one. */
  private readonly stash = Buffer.alloc(MAX_HEADER_SIZE);
  private stashLen = 0;
  private readonly assembler: MessageAssembler;
  private failure: Error | null = null;

  constructor(limits: Partial<ChunkReaderLimits> = {}, charge: InputCharge = UNLIMITED) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.charge = charge;
    this.assembler = new MessageAssembler(this.limits.maxBufferedBytes, charge);
  }

  /** Current incoming chunk size. */
  get chunkSize(): number {
    return this.size;
  }

  /** Bytes received of incomplete messages, plus stashed header bytes (what the limits bound). */
  get bufferedBytes(): number {
    return this.assembler.partialBytes + this.stashLen;
  }

  /** Memory kept for incomplete input between pushes (what is charged to the InputCharge). */
  get memoryBytes(): number {
    return this.assembler.heldBytes + this.stashLen;
  }

  /** Parses `data` and returns the messages it completed, in order. Throws ProtocolError. */
  push(data: Buffer): RtmpMessage[] {
    if (this.failure !== null) throw this.failure;
    const out: RtmpMessage[] = [];
    this.assembler.begin(data.length);
    try {
      let pos = this.stashLen > 0 ? this.finishStashedHeader(data, out) : 0;
      const end = data.length;
      while (pos < end) {
        if (this.chunkLeft > 0) {
          pos = this.copyPayload(data, pos, end, out);
          continue;
        }
        const used = this.readHeader(data, pos, end, out);
        if (used === 0) {
          this.setStashLen(end - pos);
          data.copy(this.stash, 0, pos, end);
          break;
        }
        pos += used;
      }
      // `data` belongs to the caller (a socket read buffer): keep copies of what is still partial.
      this.assembler.end(data);
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      throw e;
    }
    return out;
  }

  /** Completes a header split across pushes; returns how many bytes of `data` it used. */
  private finishStashedHeader(data: Buffer, out: RtmpMessage[]): number {
    const had = this.stashLen;
    const take = Math.min(MAX_HEADER_SIZE - had, data.length);
    data.copy(this.stash, had, 0, take);
    const used = this.readHeader(this.stash, 0, had + take, out);
    if (used === 0) {
      // Still incomplete: every byte of `data` is now in the stash.
      this.setStashLen(had + take);
      return data.length;
    }
    this.setStashLen(0);
    return used - had;
  }

  private setStashLen(n: number): void {
    const delta = n - this.stashLen;
    if (delta > 0 && !this.charge.tryCharge(delta)) throw nodeBudgetError(delta);
    if (delta < 0) this.charge.release(-delta);
    this.stashLen = n;
  }

  /**
   * Parses one chunk header at `pos`. Returns its length, or 0 if `end` cuts it short, in which
   * case no state has changed. Indexes the buffer directly: this runs once per chunk.
   */
  private readHeader(buf: Buffer, pos: number, end: number, out: RtmpMessage[]): number {
    const avail = end - pos;
    if (avail < 1) return 0;
    const b0 = buf[pos]!;
    const fmt = b0 >> 6;
    // §5.3.1.1: csid 0 and 1 select the 2- and 3-byte basic header forms.
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
    let cs = this.streams.get(csid);
    if (cs === undefined && fmt !== 0) {
      throw new ProtocolError(
        'RTMP_CHUNK_NO_PREVIOUS_HEADER',
        `chunk header fmt ${fmt} on chunk stream ${csid}, which has no previous fmt 0 header`,
      );
    }
    const headerLen = basic + MESSAGE_HEADER_SIZE[fmt as 0 | 1 | 2 | 3];
    if (avail < headerLen) return 0;
    let p = pos + basic;
    const field = fmt < 3 ? buf.readUIntBE(p, 3) : 0;
    // §5.3.1.3: fmt 3 chunks carry the extended timestamp when the stream's last header did.
    const extended = fmt < 3 ? field === EXTENDED_TIMESTAMP : cs!.extended;
    const total = headerLen + (extended ? 4 : 0);
    if (avail < total) return 0;

    if (cs === undefined) {
      if (this.streams.size >= this.limits.maxChunkStreams) {
        throw new ProtocolError(
          'RTMP_TOO_MANY_CHUNK_STREAMS',
          `chunk stream ${csid} would exceed the limit of ${this.limits.maxChunkStreams} chunk streams`,
        );
      }
      cs = {
        csid,
        timestamp: 0,
        delta: 0,
        length: 0,
        typeId: 0,
        streamId: 0,
        extended: false,
        open: false,
        received: 0,
        whole: null,
        wholeLen: 0,
        pieces: [],
        charged: 0,
        spans: [],
        spanEnd: 0,
        touched: false,
      };
      this.streams.set(csid, cs);
    }

    if (fmt < 3) {
      if (cs.open) {
        throw new ProtocolError(
          'RTMP_CHUNK_INTERLEAVED_HEADER',
          `chunk header fmt ${fmt} on chunk stream ${csid} while a message is ${cs.received}/${cs.length} bytes received`,
        );
      }
      p += 3;
      if (fmt < 2) {
        const length = buf.readUIntBE(p, 3);
        if (length > this.limits.maxMessageSize) {
          throw new ProtocolError(
            'RTMP_MESSAGE_TOO_LARGE',
            `message length ${length} on chunk stream ${csid} exceeds the limit of ${this.limits.maxMessageSize}`,
          );
        }
        cs.length = length;
        cs.typeId = buf[p + 3]!;
        p += 4;
        if (fmt === 0) {
          // §5.3.1.2.1: message stream id is little-endian.
          cs.streamId = buf.readUInt32LE(p);
          p += 4;
        }
      }
      const value = extended ? buf.readUInt32BE(p) : field;
      // §5.3.1.2.4: after fmt 0 the delta a fmt 3 chunk reuses is the fmt 0 timestamp itself.
      cs.delta = value;
      cs.timestamp = fmt === 0 ? value : (cs.timestamp + value) >>> 0;
      cs.extended = extended;
      this.startMessage(cs, out);
    } else if (!cs.open) {
      // fmt 3 starting a new message: same length/type/stream, timestamp advances by the last
      // delta. Any extended timestamp bytes repeat that delta, so they are skipped.
      cs.timestamp = (cs.timestamp + cs.delta) >>> 0;
      this.startMessage(cs, out);
    } else {
      // Continuation chunk; an extended timestamp here only repeats the first chunk's.
      this.current = cs;
      this.chunkLeft = Math.min(this.size, cs.length - cs.received);
      this.assembler.expect(cs, this.chunkLeft);
    }
    return total;
  }

  private startMessage(cs: ChunkStream, out: RtmpMessage[]): void {
    if (cs.length === 0) {
      this.emit(cs, Buffer.alloc(0), out);
      return;
    }
    this.assembler.start(cs);
    this.current = cs;
    this.chunkLeft = Math.min(this.size, cs.length);
    this.assembler.expect(cs, this.chunkLeft);
  }

  private copyPayload(data: Buffer, pos: number, end: number, out: RtmpMessage[]): number {
    const cs = this.current!;
    const n = Math.min(this.chunkLeft, end - pos);
    const payload = this.assembler.add(cs, data, pos, n, end);
    this.chunkLeft -= n;
    if (payload !== null) {
      this.current = null;
      this.emit(cs, payload, out);
    }
    return pos + n;
  }

  private emit(cs: ChunkStream, payload: Buffer, out: RtmpMessage[]): void {
    out.push({ csid: cs.csid, typeId: cs.typeId, streamId: cs.streamId, timestamp: cs.timestamp, payload });
    if (cs.typeId === MessageType.SetChunkSize) this.applySetChunkSize(payload);
    else if (cs.typeId === MessageType.Abort) this.applyAbort(payload);
  }

  /** §5.4.1: 31-bit size, the top bit must be zero; applies to every later chunk. */
  private applySetChunkSize(payload: Buffer): void {
    const size = parseU32Control(payload, 'set chunk size');
    if (size < 1 || size > 0x7fffffff || size > this.limits.maxChunkSize) {
      throw new ProtocolError(
        'RTMP_BAD_CHUNK_SIZE',
        `set chunk size ${size} is outside 1..${Math.min(this.limits.maxChunkSize, 0x7fffffff)}`,
      );
    }
    this.size = size;
  }

  /** §5.4.2: drop the partially received message on the named chunk stream, if any. */
  private applyAbort(payload: Buffer): void {
    const csid = parseU32Control(payload, 'abort');
    const cs = this.streams.get(csid);
    if (cs !== undefined && cs.open) this.assembler.drop(cs);
  }
}
