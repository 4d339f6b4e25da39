import { SYNC_BYTE, TS_PACKET_SIZE } from './constants.ts';

/** A sync candidate is accepted when the next packet's sync byte follows it. */
const LOOKAHEAD = TS_PACKET_SIZE + 1;

/**
 * Cuts a byte stream into 188-byte packets (ISO/IEC 13818-1 §2.4.3.2), whatever the chunking.
 * In sync, a packet is taken when its first byte is 0x47. Sync is lost when it is not; a new
 * sync byte is then accepted only when another one follows 188 bytes later, so a stray 0x47 in
 * garbage does not lock on. Decisions depend on the bytes alone, never on where chunks end:
 * when a decision needs bytes not there yet, they are carried (at most 188) to the next push.
 */
export class PacketSync {
  /** Times the sync byte was not where the previous packet said. */
  syncLosses = 0;
  /** Bytes skipped while looking for sync, and a cut packet at the end. */
  skippedBytes = 0;
  private carry: Buffer = Buffer.alloc(0);
  private synced = true;
  private readonly onPacket: (buf: Buffer, at: number) => void;

  /** `onPacket(buf, at)`: a packet at `buf[at..at+188)`, a view valid during the call. */
  constructor(onPacket: (buf: Buffer, at: number) => void) {
    this.onPacket = onPacket;
  }

  /** Bytes held for the next push (a partial packet). */
  get carried(): number {
    return this.carry.length;
  }

  push(chunk: Buffer): void {
    let start = 0;
    if (this.carry.length > 0) {
      // The packet cut by the last push, joined with enough of this chunk to finish it and
      // confirm the sync byte after it.
      const carried = this.carry.length;
      const head = Buffer.concat([this.carry, chunk.subarray(0, 2 * TS_PACKET_SIZE)]);
      const stop = this.scan(head, 0, false);
      if (stop < carried || head.length === carried + chunk.length) {
        this.carry = Buffer.from(head.subarray(stop));
        return;
      }
      start = stop - carried;
    }
    const stop = this.scan(chunk, start, false);
    this.carry = Buffer.from(chunk.subarray(stop));
  }

  /** End of stream: a last packet that ends exactly at the end needs no confirmation. */
  end(): void {
    if (this.carry.length === 0) return;
    const stop = this.scan(this.carry, 0, true);
    this.skippedBytes += this.carry.length - stop;
    this.carry = Buffer.alloc(0);
  }

  /** Reads packets from `buf[pos..]`; returns where it stopped for want of bytes. */
  private scan(buf: Buffer, pos: number, final: boolean): number {
    for (;;) {
      if (this.synced) {
        if (buf.length - pos < TS_PACKET_SIZE) return pos;
        if (buf[pos] === SYNC_BYTE) {
          this.onPacket(buf, pos);
          pos += TS_PACKET_SIZE;
          continue;
        }
        this.synced = false;
        this.syncLosses++;
      }
      const c = buf.indexOf(SYNC_BYTE, pos);
      if (c < 0) {
        this.skippedBytes += buf.length - pos;
        return buf.length;
      }
      this.skippedBytes += c - pos;
      pos = c;
      const left = buf.length - c;
      if (left < LOOKAHEAD) {
        if (final && left === TS_PACKET_SIZE) {
          this.synced = true;
          continue;
        }
        return c;
      }
      if (buf[c + TS_PACKET_SIZE] === SYNC_BYTE) {
        this.synced = true;
      } else {
        pos = c + 1;
        this.skippedBytes++;
      }
    }
  }
}
