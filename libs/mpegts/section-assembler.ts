import { sectionSize, MAX_PSI_SECTION_LENGTH } from './psi.ts';

/**
 * Reassembles PSI sections on one PID (ISO/IEC 13818-1 §2.4.4.1-2): a packet with
 * payload_unit_start_indicator begins with a pointer_field that says how many bytes still
 * belong to the previous section; sections may span packets, several may share one, and 0xFF
 * after a section is stuffing. At most one section of at most 1024 bytes is buffered.
 */
export class SectionAssembler {
  private partial: Buffer | null = null;
  private have = 0;
  /** Sections whose section_length exceeded the PAT/PMT limit, or that lost a packet. */
  dropped = 0;

  /** Feeds one packet's payload; returns the sections it completes (copies, safe to keep). */
  push(payload: Buffer, unitStart: boolean): Buffer[] {
    const out: Buffer[] = [];
    if (!unitStart) {
      if (this.partial !== null) this.append(payload, out);
      return out;
    }
    if (payload.length === 0) return out;
    const pointer = payload[0]!;
    const afterPointer = Math.min(payload.length, 1 + pointer);
    if (this.partial !== null) this.append(payload.subarray(1, afterPointer), out);
    if (this.partial !== null) {
      // The previous section should have ended where the pointer says: it lost bytes.
      this.partial = null;
      this.dropped++;
    }
    let at = afterPointer;
    while (at < payload.length && payload[at] !== 0xff) {
      const rest = payload.subarray(at);
      if (rest.length < 3) {
        this.begin(rest);
        break;
      }
      const size = sectionSize(rest);
      if (size - 3 > MAX_PSI_SECTION_LENGTH) {
        this.dropped++;
        break; // nothing after a bad length can be trusted in this packet
      }
      if (size <= rest.length) {
        out.push(Buffer.from(rest.subarray(0, size)));
        at += size;
      } else {
        this.begin(rest);
        break;
      }
    }
    return out;
  }

  /** Drops a partial section (a packet was lost). */
  reset(): void {
    if (this.partial !== null) this.dropped++;
    this.partial = null;
  }

  private begin(bytes: Buffer): void {
    this.partial = Buffer.allocUnsafe(3 + MAX_PSI_SECTION_LENGTH);
    bytes.copy(this.partial);
    this.have = bytes.length;
  }

  private append(bytes: Buffer, out: Buffer[]): void {
    const partial = this.partial!;
    const size = sectionSize(partial.subarray(0, this.have));
    const need = size < 0 ? 3 - this.have : size - this.have;
    const n = Math.min(need, bytes.length);
    bytes.copy(partial, this.have, 0, n);
    this.have += n;
    if (size < 0) {
      if (this.have < 3) return;
      // The length just became known: check it and take the rest of the bytes.
      if (sectionSize(partial) - 3 > MAX_PSI_SECTION_LENGTH) {
        this.partial = null;
        this.dropped++;
        return;
      }
      this.append(bytes.subarray(n), out);
      return;
    }
    if (this.have === size) {
      out.push(Buffer.from(partial.subarray(0, size)));
      this.partial = null;
    }
  }
}
