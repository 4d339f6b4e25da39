/**
 * Collects one PID's PES packet from the payloads of its transport packets: from a packet with
 * payload_unit_start_indicator until PES_packet_length bytes are there, or, when the length is
 * 0 (unbounded video), until the next unit start. Payloads are kept as views and joined once.
 */
export class PesAssembler {
  private chunks: Buffer[] = [];
  /** Bytes collected so far. */
  size = 0;
  /** 6 + PES_packet_length, 0 when unbounded, -1 until the first 6 bytes are there. */
  private expected = -1;
  startPacketIndex = 0;
  randomAccess = false;
  /** PCR base of the first packet, or -1. */
  pcr90k = -1;
  /** A continuity error happened inside this PES (bytes are missing). */
  continuityError = false;

  get active(): boolean {
    return this.chunks.length > 0;
  }

  /** Whether a bounded PES has all its bytes. */
  get complete(): boolean {
    return this.expected > 0 && this.size >= this.expected;
  }

  /** Whether the header said the PES is bounded but fewer bytes arrived. */
  get truncated(): boolean {
    return this.expected !== 0 && !this.complete;
  }

  start(payload: Buffer, packetIndex: number, randomAccess: boolean, pcr90k: number): void {
    this.chunks = [];
    this.size = 0;
    this.expected = -1;
    this.startPacketIndex = packetIndex;
    this.randomAccess = randomAccess;
    this.pcr90k = pcr90k;
    this.continuityError = false;
    this.append(payload);
  }

  append(payload: Buffer): void {
    if (payload.length === 0 || this.complete) return;
    this.chunks.push(payload);
    this.size += payload.length;
    if (this.expected < 0 && this.size >= 6) {
      this.expected = this.byteAt(4) * 256 + this.byteAt(5);
      if (this.expected > 0) this.expected += 6;
    }
  }

  /** The collected PES packet in one Buffer (trimmed to PES_packet_length), and the state cleared. */
  take(): Buffer {
    const all =
      this.chunks.length === 1 ? Buffer.from(this.chunks[0]!) : Buffer.concat(this.chunks, this.size);
    const expected = this.expected;
    this.clear();
    return expected > 0 && all.length > expected ? all.subarray(0, expected) : all;
  }

  clear(): void {
    this.chunks = [];
    this.size = 0;
  }

  private byteAt(i: number): number {
    for (const c of this.chunks) {
      if (i < c.length) return c[i]!;
      i -= c.length;
    }
    return 0;
  }
}
