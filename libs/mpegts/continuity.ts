/**
 * continuity_counter per PID (ISO/IEC 13818-1 §2.4.3.3): 4 bits, incremented on every packet
 * that carries payload, not on adaptation-field-only packets.
 */
export class ContinuityCounters {
  /** Next counter per PID (13-bit PIDs). */
  private readonly next = new Uint8Array(0x2000);

  /** The counter for a packet with payload on `pid`, advancing it. */
  take(pid: number): number {
    const c = this.next[pid]!;
    this.next[pid] = (c + 1) & 0x0f;
    return c;
  }

  /** The counter last used on `pid` (15 when none was used since the last reset). */
  last(pid: number): number {
    return (this.next[pid]! + 15) & 0x0f;
  }

  reset(): void {
    this.next.fill(0);
  }
}
