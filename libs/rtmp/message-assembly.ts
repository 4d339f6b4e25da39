import { ProtocolError } from '../errors/protocol-error.ts';

/**
 * Where a reader charges the input memory it keeps between pushes: a node-wide budget shared by
 * every connection. `tryCharge` returns false, charging nothing, when the budget cannot take the
 * bytes; with `spare`, also when they would take it past half (storage beyond what arrived).
 */
export interface InputCharge {
  tryCharge(bytes: number, spare?: boolean): boolean;
  release(bytes: number): void;
}

/**
 * Kept storage for a partial message is at most this many times the bytes that arrived: a peer
 * declaring 8 MiB and sending one byte costs a few bytes, while a real frame cut by a socket read
 * usually gets its full size at the first cut and is not moved again.
 */
const GROWTH = 8;
/** Span list length at which a partial message's pieces are copied mid-push (tiny chunks). */
const MAX_SPAN_ENTRIES = 64;

/** The payload side of one chunk stream's message; the chunk stream object carries these fields. */
export interface Assembly {
  /** Declared message length. */
  length: number;
  /** A message with a non-empty payload is being assembled. */
  open: boolean;
  /** Payload bytes received so far: `heldLen` in `held`, the rest in `spans`. */
  received: number;
  /**
   * Storage the message is assembled in, or null. Between pushes it holds what earlier pushes
   * delivered and `charged` equals its size; within a push it may be the exact-size payload,
   * allocated before it is known to complete (then uncharged).
   */
  held: Buffer | null;
  heldLen: number;
  charged: number;
  /** [start, end) offsets of this message's bytes in the current push, not yet copied. */
  readonly spans: number[];
  /** Entries of `spans` in use (the array is reused, not truncated). */
  spanEnd: number;
  /** Listed among the current push's touched messages. */
  touched: boolean;
}

export const idleAssembly = (): Omit<Assembly, 'length'> => ({
  open: false,
  received: 0,
  held: null,
  heldLen: 0,
  charged: 0,
  spans: [],
  spanEnd: 0,
  touched: false,
});

export const nodeBudgetError = (bytes: number): ProtocolError =>
  new ProtocolError(
    'RTMP_NODE_INPUT_BUDGET',
    `the node-wide input memory budget cannot take ${bytes} more bytes for this connection`,
  );

/**
 * Assembles message payloads from chunk payloads for one chunk reader, holding memory only for
 * bytes that arrived, never for a declared length alone:
 * - a message whose remaining bytes may all be in the current push is copied straight into its
 *   exact-size payload (the common case; what one push allocates so is at most its own size);
 * - otherwise its pieces are noted as offsets into the push and, when the push ends first, copied
 *   into storage kept for it: at most GROWTH times what arrived, never past the declared length.
 * Kept storage is bounded by `maxBufferedBytes` (RTMP_BUFFER_LIMIT) and charged to `charge`
 * (RTMP_NODE_INPUT_BUDGET). Rounding up beyond what arrived is done only while it keeps the
 * connection under half its limit and the node under half its budget, so a connection is refused
 * only once more than half its limit has really arrived.
 */
export class MessageAssembler {
  private readonly maxBufferedBytes: number;
  private readonly charge: InputCharge;
  /** Storage charged for partial messages, all chunk streams together. */
  private held = 0;
  /** Messages that received bytes during the current push. */
  private readonly touched: Assembly[] = [];
  private touchedCount = 0;
  /** Bytes the current push may still allocate ahead of knowing a message completes in it. */
  private room = 0;

  constructor(maxBufferedBytes: number, charge: InputCharge) {
    this.maxBufferedBytes = maxBufferedBytes;
    this.charge = charge;
  }

  /** Storage kept for partial messages. */
  get heldBytes(): number {
    return this.held;
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

  /**
   * Takes `data[pos, pos + n)` as the next bytes of `a`'s message (`end`: where the push ends).
   * Returns the exact-size payload, with its own memory, when this completes the message.
   */
  add(a: Assembly, data: Buffer, pos: number, n: number, end: number): Buffer | null {
    let storage = a.held;
    if (storage === null && a.length - a.received <= end - pos && a.length <= this.room) {
      storage = this.assembleNow(a, data);
    }
    if (storage !== null && a.spanEnd === 0 && a.heldLen + n <= storage.length) {
      data.copy(storage, a.heldLen, pos, pos + n);
      a.heldLen += n;
    } else {
      this.touch(a);
      a.spans[a.spanEnd++] = pos;
      a.spans[a.spanEnd++] = pos + n;
    }
    a.received += n;
    if (a.received === a.length) return this.complete(a, data);
    if (a.spanEnd >= MAX_SPAN_ENTRIES) this.settle(a, data); // tiny chunks: copy now, keep the list short
    return null;
  }

  /**
   * The push ends: every message it touched that is still incomplete gets its bytes copied out of
   * `data` (the caller's read buffer) into storage it owns, within the limits and charged.
   */
  end(data: Buffer): void {
    for (let i = 0; i < this.touchedCount; i++) {
      const a = this.touched[i]!;
      a.touched = false;
      if (a.open) this.settle(a, data);
    }
    this.touchedCount = 0;
  }

  /** Forgets the message being assembled (completed or aborted) and releases its storage. */
  drop(a: Assembly): void {
    if (a.charged > 0) {
      this.held -= a.charged;
      this.charge.release(a.charged);
      a.charged = 0;
    }
    a.held = null;
    a.open = false;
    a.received = 0;
    a.heldLen = 0;
    a.spanEnd = 0;
  }

  /** The rest of the message may be in this push: assemble it in its exact-size payload now. */
  private assembleNow(a: Assembly, data: Buffer): Buffer {
    this.room -= a.length;
    // Own memory per payload (not a pool slice), so a cached message pins nothing else.
    const storage = Buffer.allocUnsafeSlow(a.length);
    if (a.spanEnd > 0) {
      copySpans(a, data, storage, 0);
      a.spanEnd = 0;
    }
    a.held = storage;
    a.heldLen = a.received;
    this.touch(a);
    return storage;
  }

  private touch(a: Assembly): void {
    if (a.touched) return;
    a.touched = true;
    this.touched[this.touchedCount++] = a;
  }

  private complete(a: Assembly, data: Buffer): Buffer {
    let payload = a.held;
    if (payload === null || payload.length !== a.length) {
      payload = Buffer.allocUnsafeSlow(a.length);
      if (a.held !== null) a.held.copy(payload, 0, 0, a.heldLen);
      copySpans(a, data, payload, a.heldLen);
    }
    this.drop(a);
    return payload;
  }

  /** Copies the spans of an incomplete message into kept storage, resized and charged as needed. */
  private settle(a: Assembly, data: Buffer): void {
    const storage = a.held;
    if (storage === null || storage.length < a.received || a.charged < storage.length) this.resize(a);
    copySpans(a, data, a.held!, a.heldLen);
    a.heldLen = a.received;
    a.spanEnd = 0;
  }

  /** Gives `a` charged storage for at least every byte received so far, moving held bytes over. */
  private resize(a: Assembly): void {
    const old = a.charged;
    const need = a.received;
    const others = this.held - old;
    const roomy = Math.min(a.length, need * GROWTH);
    let cap = need;
    if (
      roomy > need &&
      others + roomy <= this.maxBufferedBytes / 2 &&
      this.charge.tryCharge(roomy - old, true)
    ) {
      cap = roomy;
    } else {
      if (others + need > this.maxBufferedBytes) {
        throw new ProtocolError(
          'RTMP_BUFFER_LIMIT',
          `partial messages would hold ${others + need} bytes, over the limit of ${this.maxBufferedBytes}`,
        );
      }
      if (!this.charge.tryCharge(need - old)) throw nodeBudgetError(need - old);
    }
    this.held += cap - old;
    a.charged = cap;
    if (a.held === null || a.held.length !== cap) {
      const storage = Buffer.allocUnsafeSlow(cap);
      if (a.held !== null) storage.set(a.held.subarray(0, a.heldLen));
      a.held = storage;
    }
  }
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
