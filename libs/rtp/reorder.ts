import type { RtpPacket } from './packet.ts';

export const DEFAULT_REORDER_WINDOW = 64;

export interface ReorderResult {
  /** Packets now in sequence order. */
  packets: RtpPacket[];
  /**
   * Sequence numbers skipped in this batch (0 if none). The gaps may sit between the returned
   * packets; the depacketizers also check sequence numbers themselves, so a caller may simply
   * call `lost()` once when this is non-zero.
   */
  lost: number;
}

/** Signed distance a - b in the 16-bit sequence space (RFC 3550 §A.1 style). */
const seqDiff = (a: number, b: number): number => ((a - b) << 16) >> 16;

/**
 * Puts RTP packets received over UDP back in sequence order within a bounded window
 * (RFC 3550 §A.1: small reorders are normal, large jumps are restarts). A gap is declared lost
 * only when a packet arrives `windowPackets` or more ahead (or on `flush()`), so the window is
 * also the reorder latency. Holds at most `windowPackets - 1` packets.
 */
export class RtpReorderBuffer {
  private readonly window: number;
  private readonly slots: (RtpPacket | undefined)[];
  /** Sequence numbers released recently, by slot, to tell duplicates from late packets. */
  private readonly released: Int32Array;
  private expected: number | null = null;
  private held = 0;
  private dup = 0;
  private lateCount = 0;

  constructor(opts: { windowPackets?: number } = {}) {
    const w = opts.windowPackets ?? DEFAULT_REORDER_WINDOW;
    if (!Number.isInteger(w) || w < 1 || w > 0x4000)
      throw new RangeError(`windowPackets ${w} not in 1..16384`);
    this.window = w;
    this.slots = new Array<RtpPacket | undefined>(w).fill(undefined);
    this.released = new Int32Array(w).fill(-1);
  }

  get duplicates(): number {
    return this.dup;
  }
  get late(): number {
    return this.lateCount;
  }
  /** Packets waiting for an earlier one. */
  get buffered(): number {
    return this.held;
  }

  push(pkt: RtpPacket): ReorderResult {
    const seq = pkt.sequenceNumber & 0xffff;
    if (this.expected === null) return this.restart(pkt, 0);
    const d = seqDiff(seq, this.expected);
    if (d < 0) {
      // Far behind: the sender restarted its sequence space (or jumped); follow it.
      if (-d > this.window) return this.restart(pkt, 1);
      if (this.released[seq % this.window] === seq) this.dup++;
      else this.lateCount++;
      return { packets: [], lost: 0 };
    }
    if (d >= this.window) {
      // Beyond the window: what is held is all we will get before it.
      const out = this.flush();
      return this.restart(pkt, d - out.packets.length, out.packets);
    }
    const slot = seq % this.window;
    if (this.slots[slot] !== undefined) {
      this.dup++;
      return { packets: [], lost: 0 };
    }
    if (d > 0) {
      this.slots[slot] = pkt;
      this.held++;
      return { packets: [], lost: 0 };
    }
    const packets = [pkt];
    this.release(pkt);
    this.drainInOrder(packets);
    return { packets, lost: 0 };
  }

  /** Releases everything held, in order, counting the holes as lost (e.g. on a timer). */
  flush(): ReorderResult {
    const packets: RtpPacket[] = [];
    if (this.expected === null || this.held === 0) return { packets, lost: 0 };
    let lost = 0;
    while (this.held > 0) {
      const slot = this.expected % this.window;
      const p = this.slots[slot];
      if (p === undefined) {
        lost++;
        this.expected = (this.expected + 1) & 0xffff;
        continue;
      }
      this.slots[slot] = undefined;
      this.held--;
      packets.push(p);
      this.release(p);
    }
    return { packets, lost };
  }

  private restart(pkt: RtpPacket, lost: number, before: RtpPacket[] = []): ReorderResult {
    if (this.held > 0) {
      const out = this.flush();
      before = [...before, ...out.packets];
      lost += out.lost;
    }
    this.release(pkt);
    return { packets: [...before, pkt], lost };
  }

  private release(p: RtpPacket): void {
    const seq = p.sequenceNumber & 0xffff;
    this.released[seq % this.window] = seq;
    this.expected = (seq + 1) & 0xffff;
  }

  private drainInOrder(out: RtpPacket[]): void {
    while (this.held > 0 && this.expected !== null) {
      const slot = this.expected % this.window;
      const p = this.slots[slot];
      if (p === undefined) return;
      this.slots[slot] = undefined;
      this.held--;
      out.push(p);
      this.release(p);
    }
  }
}
