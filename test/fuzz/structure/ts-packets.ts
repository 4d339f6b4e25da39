import { crc32Mpeg2 } from '../../../libs/mpegts/crc32.ts';
import type { Rng } from '../engine/rng.ts';
import type { Mutator } from '../engine/target.ts';

const PACKET = 188;
/** PIDs worth landing on: PAT, Sluice's and ffmpeg's PMT and elementary PIDs, null, random. */
const PIDS = [0x0000, 0x1000, 0x0100, 0x0101, 0x0011, 0x1fff];

/** Offsets of packets that start with a sync byte, on the 188-byte grid of the first one. */
function packets(b: Buffer): number[] {
  const first = b.indexOf(0x47);
  const out: number[] = [];
  if (first < 0) return out;
  for (let at = first; at + 4 <= b.length; at += PACKET) if (b[at] === 0x47) out.push(at);
  return out;
}

/** After the header and any adaptation field; -1 when it leaves the packet. */
function payloadStart(b: Buffer, at: number): number {
  if ((b[at + 3]! & 0x20) === 0) return at + 4;
  const p = at + 5 + (b[at + 4] ?? 0);
  return p < Math.min(b.length, at + PACKET) ? p : -1;
}

/** Re-signs the section that starts at `s` (within the buffer) so a tweaked section passes the CRC check. */
function resign(b: Buffer, s: number): void {
  if (s + 3 > b.length) return;
  const end = s + 3 + (((b[s + 1]! & 0x0f) << 8) | b[s + 2]!);
  if (end > b.length || end - s < 12) return;
  b.writeUInt32BE(crc32Mpeg2(b, s, end - 4), end - 4);
}

/**
 * Structure-aware tweaks of a transport stream: the header fields of one packet (PID, unit
 * start, adaptation field control, continuity counter), its adaptation field (length, flags,
 * PCR), the PES header or PSI section it starts (lengths, flags, PTS; sections re-signed so
 * the demuxer parses past the CRC), or whole packets dropped, duplicated, swapped or cut.
 */
export const tsPacketMutator: Mutator = (buf, rng: Rng) => {
  const b = Buffer.from(buf);
  const list = packets(b);
  if (list.length === 0) return b;
  const at = rng.pick(list);
  const end = Math.min(b.length, at + PACKET);
  switch (rng.below(10)) {
    case 0: {
      const pid = rng.oneIn(4) ? rng.below(0x2000) : rng.pick(PIDS);
      b[at + 1] = (b[at + 1]! & 0xe0) | (pid >> 8);
      b[at + 2] = pid & 0xff;
      return b;
    }
    case 1: // transport_error, unit start, priority
      b[at + 1] = b[at + 1]! ^ rng.pick([0x80, 0x40, 0x20]);
      return b;
    case 2: // scrambling, adaptation_field_control, continuity_counter
      b[at + 3] = rng.oneIn(2)
        ? (b[at + 3]! & 0xf0) | rng.below(16)
        : (b[at + 3]! & 0x0f) | (rng.below(16) << 4);
      return b;
    case 3: // adaptation field length and flags
      if (at + 5 < end) {
        if (rng.oneIn(2)) b[at + 4] = rng.pick([0, 1, 7, 182, 183, 184, 255, rng.below(256)]);
        else b[at + 5] = rng.pick([0x10, 0x40, 0x80, 0x50, 0xff, rng.below(256)]);
      }
      return b;
    case 4: {
      // PES header fields, when the payload starts one
      const p = payloadStart(b, at);
      if (p < 0 || p + 14 > end || b[p] !== 0 || b[p + 1] !== 0 || b[p + 2] !== 1) return b;
      const field = rng.pick([3, 4, 5, 6, 7, 8, 9, 10, 13]);
      b[p + field] = rng.pick([0, 1, 0x80, 0xc0, 0x40, 0xff, rng.below(256)]);
      return b;
    }
    case 5: {
      // PSI: pointer_field, table_id, section_length, version, a program entry; re-signed
      const p = payloadStart(b, at);
      if (p < 0 || p + 12 > end) return b;
      const unitStart = (b[at + 1]! & 0x40) !== 0;
      if (unitStart && rng.oneIn(4)) {
        b[p] = rng.pick([0, 1, 2, 183, 255, rng.below(256)]);
        return b;
      }
      const s = unitStart ? p + 1 + b[p]! : p;
      if (s + 12 > end) return b;
      const field = rng.pick([0, 1, 2, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
      if (s + field < end) b[s + field] = rng.below(256);
      if (!rng.oneIn(4)) resign(b, s);
      return b;
    }
    case 6: // drop a packet
      return Buffer.concat([b.subarray(0, at), b.subarray(end)]);
    case 7: // duplicate a packet
      return Buffer.concat([b.subarray(0, end), b.subarray(at, end), b.subarray(end)]);
    case 8: {
      // swap with another packet
      const other = rng.pick(list);
      if (other === at || other + PACKET > b.length || end - at < PACKET) return b;
      const tmp = Buffer.from(b.subarray(at, end));
      b.copy(b, at, other, other + PACKET);
      tmp.copy(b, other);
      return b;
    }
    default: // cut a packet short (lost bytes: the next sync byte is early)
      return Buffer.concat([b.subarray(0, at + rng.below(PACKET)), b.subarray(end)]);
  }
};
