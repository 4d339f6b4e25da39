import { SYNC_BYTE, TS_HEADER_SIZE, TS_MAX_PAYLOAD, TS_PACKET_SIZE } from './constants.ts';
import type { ContinuityCounters } from './continuity.ts';
import { pesHeaderSize, writePesHeader } from './pes.ts';
import type { PesHeaderSpec } from './pes.ts';
import { PCR_FIELD_SIZE, writePcrField } from './timestamp.ts';

/**
 * Cuts PES packets and PSI sections into 188-byte transport packets (ISO/IEC 13818-1 §2.4.3.2),
 * written in place into a buffer the caller sized with `pesPacketCount`. The last packet of a
 * PES is filled up with adaptation field stuffing; a section is followed by 0xFF bytes.
 */

/** adaptation_field_length + the flags byte. */
const AF_FLAGS_SIZE = 2;
const AF_RANDOM_ACCESS = 0x40;
const AF_PCR = 0x10;
const PUSI = 0x40;
const AFC_PAYLOAD = 0x10;
const AFC_ADAPTATION_ONLY = 0x20;
const AFC_BOTH = 0x30;

export interface PesPacketization extends PesHeaderSpec {
  pid: number;
  /** The elementary stream bytes, in order, `payloadLength` in all. */
  payload: readonly Buffer[];
  /** PCR base (90 kHz) for the first packet's adaptation field, or null. */
  pcr90k: number | null;
  /** random_access_indicator on the first packet (a key frame starts here). */
  randomAccess: boolean;
}

/** Adaptation field bytes the first packet needs before any stuffing. */
function firstAdaptationSize(p: PesPacketization): number {
  if (p.pcr90k !== null) return AF_FLAGS_SIZE + PCR_FIELD_SIZE;
  return p.randomAccess ? AF_FLAGS_SIZE : 0;
}

/** Number of transport packets `writePes` writes for `p`. */
export function pesPacketCount(p: PesPacketization): number {
  const total = pesHeaderSize(p) + p.payloadLength;
  const firstCapacity = TS_MAX_PAYLOAD - firstAdaptationSize(p);
  if (total <= firstCapacity) return 1;
  return 1 + Math.ceil((total - firstCapacity) / TS_MAX_PAYLOAD);
}

/** Writes the 4-byte packet header. */
function writeHeader(out: Buffer, at: number, pid: number, start: boolean, afc: number, cc: number): void {
  out[at] = SYNC_BYTE;
  out[at + 1] = (start ? PUSI : 0) | ((pid >>> 8) & 0x1f);
  out[at + 2] = pid & 0xff;
  out[at + 3] = afc | cc;
}

/**
 * Writes an adaptation field of `size` bytes (length byte included) at `at`: flags, optional
 * PCR, then 0xFF stuffing. Size 1 is the one-byte form (adaptation_field_length 0) used to
 * stuff a single byte.
 */
function writeAdaptationField(
  out: Buffer,
  at: number,
  size: number,
  flags: number,
  pcr90k: number | null,
): void {
  out[at] = size - 1;
  if (size === 1) return;
  out[at + 1] = flags;
  let pos = at + AF_FLAGS_SIZE;
  if (pcr90k !== null) {
    writePcrField(out, pos, pcr90k);
    pos += PCR_FIELD_SIZE;
  }
  out.fill(0xff, pos, at + size);
}

/** Writes `p` as `pesPacketCount(p)` packets at `offset`; returns the offset after them. */
export function writePes(out: Buffer, offset: number, p: PesPacketization, cc: ContinuityCounters): number {
  const headerSize = pesHeaderSize(p);
  let remaining = headerSize + p.payloadLength;
  let chunkIndex = 0;
  let chunkOffset = 0;
  let at = offset;
  let first = true;
  while (first || remaining > 0) {
    const afBase = first ? firstAdaptationSize(p) : 0;
    const capacity = TS_MAX_PAYLOAD - afBase;
    const n = Math.min(capacity, remaining);
    const afSize = afBase + capacity - n;
    writeHeader(out, at, p.pid, first, afSize > 0 ? AFC_BOTH : AFC_PAYLOAD, cc.take(p.pid));
    if (afSize > 0) {
      const flags = first ? (p.randomAccess ? AF_RANDOM_ACCESS : 0) | (p.pcr90k !== null ? AF_PCR : 0) : 0;
      writeAdaptationField(out, at + TS_HEADER_SIZE, afSize, flags, first ? p.pcr90k : null);
    }
    let pos = at + TS_HEADER_SIZE + afSize;
    let toCopy = n;
    if (first) {
      pos += writePesHeader(out, pos, p);
      toCopy -= headerSize;
    }
    // Copy `toCopy` payload bytes, walking the chunk list.
    while (toCopy > 0) {
      const chunk = p.payload[chunkIndex]!;
      const take = Math.min(toCopy, chunk.length - chunkOffset);
      chunk.copy(out, pos, chunkOffset, chunkOffset + take);
      pos += take;
      toCopy -= take;
      chunkOffset += take;
      if (chunkOffset === chunk.length) {
        chunkIndex++;
        chunkOffset = 0;
      }
    }
    remaining -= n;
    at += TS_PACKET_SIZE;
    first = false;
  }
  return at;
}

/** Longest section that fits one packet after the pointer_field. */
export const MAX_SINGLE_PACKET_SECTION = TS_MAX_PAYLOAD - 1;

/**
 * Writes one section as one packet with the given continuity counter: pointer_field 0, the
 * section, 0xFF stuffing (§2.4.4.1). Returns the offset after the packet.
 */
export function writeSectionPacket(
  out: Buffer,
  offset: number,
  pid: number,
  section: Buffer,
  cc: number,
): number {
  if (section.length > MAX_SINGLE_PACKET_SECTION) {
    throw new RangeError(`a ${section.length}-byte section does not fit one packet`);
  }
  writeHeader(out, offset, pid, true, AFC_PAYLOAD, cc);
  out[offset + TS_HEADER_SIZE] = 0; // pointer_field
  section.copy(out, offset + TS_HEADER_SIZE + 1);
  out.fill(0xff, offset + TS_HEADER_SIZE + 1 + section.length, offset + TS_PACKET_SIZE);
  return offset + TS_PACKET_SIZE;
}

/**
 * Writes an adaptation-field-only packet carrying a PCR. Its continuity counter repeats the
 * last one used on the PID (no payload, so no increment). Returns the offset after the packet.
 */
export function writePcrPacket(
  out: Buffer,
  offset: number,
  pid: number,
  pcr90k: number,
  cc: ContinuityCounters,
): number {
  writeHeader(out, offset, pid, false, AFC_ADAPTATION_ONLY, cc.last(pid));
  writeAdaptationField(out, offset + TS_HEADER_SIZE, TS_MAX_PAYLOAD, AF_PCR, pcr90k);
  return offset + TS_PACKET_SIZE;
}
