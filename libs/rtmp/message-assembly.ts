import { ProtocolError } from '../errors/protocol-error.ts';

/**
 * Where a reader charges the input memory it keeps between pushes: a node-wide budget shared by
 * every connection. `tryCharge` returns false, charging nothing, when the budget cannot take the
 * bytes; with `spare` (memory beyond what arrived) also when they would take it past half.
 */
export interface InputCharge {
  tryCharge(bytes: number, spare?: boolean): boolean;
  release(bytes: number): void;
}

/**
 * A partial message gets storage of its full declared length once at least 1/WHOLE_AFTER of it
 * arrived (and the connection and node hold less than half their limits), so a real frame cut by
 * a socket read is copied once; a peer declaring 8 MiB and sending one byte gets no such thing.
 */
const WHOLE_AFTER = 8;
/** What one kept piece costs beyond its bytes (Buffer and ArrayBuffer objects; measured ~220-400). */
export const PIECE_OVERHEAD = 256;
/** Span list length at which a partial message's pieces are kept mid-push (tiny chunks). */
const MAX_SPAN_ENTRIES = 64;

/** The payload side of one chunk stream's message; the chunk stream object carries these fields. */
export interface Assembly {
  /** Declared message length. */
  length: number;
  /** A message with a non-empty payload is being assembled. */
  open: boolean;
  /** Payload bytes received so far: in `whole` or `pieces`, then in `spans`. */
  received: number;
  /**
   * Storage of the declared length, or null. Allocated within a push when the rest of the message
   * may be in it (uncharged), or kept between pushes (charged); `wholeLen` bytes are set.
   */
  whole: Buffer | null;
  wholeLen: number;
  /** Exact copies of earlier pushes' bytes, in order, when there is no `whole`. */
  pieces: Buffer[];
  /** Bytes charged for `whole` or `pieces`. */
  charged: number;
  /** [start, end) offsets of this message's bytes in the current push, not yet copied. */
  readonly spans: number[];
  /** Entries of `spans` in use (the array is reused, not truncated). */
  spanEnd: number;
  /** Listed among the current push's touched messages. */
  touched: boolean;
}

export const nodeBudgetError = (bytes: number): ProtocolError =>
  new ProtocolError(
    'RTMP_NODE_INPUT_BUDGET',
    `the node-wide input memory budget cannot take ${bytes} more bytes for this connection`,
  );

/**
 * Assembles message payloads from chunk payloads for one chunk reader. Memory follows the bytes
 * that arrived, never a declared length alone:
 * - a message whose remaining bytes may all be in the current push is copied straight into its
 *   exact-size payload (the common case; what one push allocates so is at most its own size);
 * - otherwise its pieces are noted as offsets into the push (the caller's read buffer) and, when
 *   the push ends first, copied out: into storage of the full length if a good part of the
 *   message is there (see WHOLE_AFTER), else into an exact-size piece. A new piece absorbs the
 *   last ones while they are under twice its size, so a message holds O(log n) pieces and a
 *   trickle costs O(log n) copies per byte; the pieces are concatenated when the message ends.
 * Bytes received of incomplete messages are bounded by `maxBufferedBytes` (RTMP_BUFFER_LIMIT,
 * checked at each chunk header, so the outcome never depends on TCP segmentation). The memory kept
 * for them is charged to `charge` (RTMP_NODE_INPUT_BUDGET): those bytes, PIECE_OVERHEAD per piece,
 * and the unfilled part of full-length storage, which is taken only while the connection holds
 * under half `maxBufferedBytes` and the node under half its budget (so at most 1.5x the limit).
 */
export class MessageAssembler {
  private readonly maxBufferedBytes: number;
  private readonly charge: InputCharge;
  /** Memory charged for partial messages, all chunk streams together. */
  private held = 0;
  /** Bytes received of incomplete messages, all chunk streams together. */
  private partial = 0;
  /** Messages that received bytes during the current push. */
  private readonly touched: Assembly[] = [];
  private touchedCount = 0;
  /** Bytes the current push may still allocate ahead of knowing a message completes in it. */
  private room = 0;

  constructor(maxBufferedBytes: number, charge: InputCharge) {
    this.maxBufferedBytes = maxBufferedBytes;
    this.charge = charge;
  }

  /** Memory kept for partial messages. */
  get heldBytes(): number {
    return this.held;
  }

  /** Bytes received of incomplete messages. */
  get partialBytes(): number {
    return this.partial;
  }

  /** A push of `size` bytes begins. */
  begin(size: number): void {
    this.room = size;
  }

  /** `a` starts a message of `a.length` > 0 bytes. */
  start(a: Assembly): void {
    a.open = true;
    a.received = 0;
  }

  /** A chunk of `n` bytes of `a`'s message follows: refused if it would leave too much incomplete. */
  expect(a: Assembly, n: number): void {
    if (a.received + n < a.length && this.partial + n > this.maxBufferedBytes) {
      throw new ProtocolError(
        'RTMP_BUFFER_LIMIT',
        `a ${n}-byte chunk would leave ${this.partial + n} bytes of incomplete messages, over the limit of ${this.maxBufferedBytes}`,
      );
    }
  }

  /**
   * Takes `data[pos, pos + n)` as the next bytes of `a`'s message (`end`: where the push ends).
   * Returns the exact-size payload, with its own memory, when this completes the message.
   */
  add(a: Assembly, data: Buffer, pos: number, n: number, end: number): Buffer | null {
    let whole = a.whole;
    if (whole === null) {
      if (a.charged === 0 && a.length - a.received <= end - pos && a.length <= this.room) {
        this.room -= a.length;
        whole = this.makeWhole(a, data);
        this.touch(a);
      } else {
        this.touch(a);
        a.spans[a.spanEnd++] = pos;
        a.spans[a.spanEnd++] = pos + n;
      }
    }
    if (whole !== null) {
      data.copy(whole, a.wholeLen, pos, pos + n);
      a.wholeLen += n;
    }
    a.received += n;
    this.partial += n;
    if (a.received === a.length) return this.complete(a, data);
    if (a.spanEnd >= MAX_SPAN_ENTRIES) this.keep(a, data); // tiny chunks: keep them now, list stays short
    return null;
  }

  /** The push ends: every message it touched that is still incomplete keeps its bytes. */
  end(data: Buffer): void {
    for (let i = 0; i < this.touchedCount; i++) {
      const a = this.touched[i]!;
      a.touched = false;
      if (a.open) this.keep(a, data);
    }
    this.touchedCount = 0;
  }

  /** Forgets the message being assembled (completed or aborted) and releases its memory. */
  drop(a: Assembly): void {
    if (a.charged > 0) {
      this.held -= a.charged;
      this.charge.release(a.charged);
      a.charged = 0;
    }
    a.whole = null;
    a.wholeLen = 0;
    if (a.pieces.length > 0) a.pieces = [];
    this.partial -= a.received;
    a.open = false;
    a.received = 0;
    a.spanEnd = 0;
  }

  private touch(a: Assembly): void {
    if (a.touched) return;
    a.touched = true;
    this.touched[this.touchedCount++] = a;
  }

  /** Storage of the declared length holding what arrived so far (pieces and spans). */
  private makeWhole(a: Assembly, data: Buffer): Buffer {
    // Own memory per payload (not a pool slice), so a cached message pins nothing else.
    const whole = Buffer.allocUnsafeSlow(a.length);
    let at = 0;
    const pieces = a.pieces;
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      p.copy(whole, at);
      at += p.length;
    }
    if (a.spanEnd > 0) {
      copySpans(a, data, whole, at);
      a.spanEnd = 0;
    }
    a.whole = whole;
    a.wholeLen = a.received;
    return whole;
  }

  private complete(a: Assembly, data: Buffer): Buffer {
    const payload = a.whole ?? this.makeWhole(a, data);
    this.drop(a);
    return payload;
  }

  /** Copies what `data` holds of an incomplete message into memory it keeps, and charges it. */
  private keep(a: Assembly, data: Buffer): void {
    if (a.whole !== null && a.charged > 0) return; // kept whole: later bytes go straight into it
    if (a.whole === null && a.spanEnd === 0) return; // nothing new since it was last kept
    if (
      a.length <= a.received * WHOLE_AFTER &&
      this.held - a.charged + a.length <= this.maxBufferedBytes / 2 &&
      this.recharge(a, a.length, true)
    ) {
      if (a.whole === null) this.makeWhole(a, data);
      if (a.pieces.length > 0) a.pieces = [];
      return;
    }
    // The new bytes (the spans, or what a whole allocated in this push holds), with the last
    // pieces while they are under twice the size: pieces shrink geometrically, so there are few.
    const pieces = a.pieces;
    let size = a.whole === null ? spanBytes(a) : a.wholeLen;
    let from = pieces.length;
    while (from > 0 && pieces[from - 1]!.length < 2 * size) size += pieces[--from]!.length;
    const cost = a.received + (from + 1) * PIECE_OVERHEAD;
    if (!this.recharge(a, cost, false)) throw nodeBudgetError(cost - a.charged);
    const piece = Buffer.allocUnsafeSlow(size);
    let at = 0;
    for (let i = from; i < pieces.length; i++) {
      pieces[i]!.copy(piece, at);
      at += pieces[i]!.length;
    }
    if (a.whole === null) {
      copySpans(a, data, piece, at);
    } else {
      a.whole.copy(piece, at, 0, a.wholeLen);
      a.whole = null;
      a.wholeLen = 0;
    }
    pieces.length = from;
    pieces.push(piece);
    a.spanEnd = 0;
  }

  /** Makes `a`'s charge `bytes`; false, changing nothing, when the node budget refuses the growth. */
  private recharge(a: Assembly, bytes: number, spare: boolean): boolean {
    const delta = bytes - a.charged;
    if (delta > 0 && !this.charge.tryCharge(delta, spare)) return false;
    if (delta < 0) this.charge.release(-delta);
    this.held += delta;
    a.charged = bytes;
    return true;
  }
}

/** Bytes noted in the spans of `a`. */
function spanBytes(a: Assembly): number {
  let n = 0;
  for (let i = 0; i < a.spanEnd; i += 2) n += a.spans[i + 1]! - a.spans[i]!;
  return n;
}

/** Copies the spans of `a` in `data` into `target` from `at` on. */
function copySpans(a: Assembly, data: Buffer, target: Buffer, at: number): void {
  const spans = a.spans;
  for (let i = 0; i < a.spanEnd; i += 2) {
    const s = spans[i]!;
    const e = spans[i + 1]!;
    data.copy(target, at, s, e);
    at += e - s;
  }
}
