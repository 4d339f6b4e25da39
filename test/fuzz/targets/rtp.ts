import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import {
  AAC_HBR,
  AacDepacketizer,
  H264Depacketizer,
  H265Depacketizer,
  parseRtcp,
  parseRtpPacket,
  RtpReorderBuffer,
} from '../../../libs/rtp/index.ts';
import type { AccessUnit, RtpPacket } from '../../../libs/rtp/index.ts';
import { invariant } from '../engine/target.ts';
import type { FuzzTarget } from '../engine/target.ts';

/** Input: [u16 length][RTP packet] records; a record cut short ends the input. */
function cut(input: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos + 2 <= input.length) {
    const len = input.readUInt16BE(pos);
    const end = Math.min(input.length, pos + 2 + len);
    out.push(input.subarray(pos + 2, end));
    pos = end;
  }
  return out;
}

interface Depacketizer {
  push(pkt: RtpPacket): AccessUnit[];
  lost(): void;
  readonly droppedUnits: number;
}

/** Rethrows anything but a ProtocolError: the only error a bad packet may raise. */
function tolerate(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
}

function feed(packets: readonly RtpPacket[], inputBytes: number, withLost: (d: Depacketizer) => void): void {
  const deps: [string, Depacketizer][] = [
    ['h264', new H264Depacketizer()],
    ['h265', new H265Depacketizer()],
    ['aac', new AacDepacketizer(AAC_HBR)],
  ];
  for (const [name, d] of deps) {
    let emitted = 0;
    withLost(d);
    for (const p of packets) {
      tolerate(() => {
        for (const au of d.push(p)) {
          invariant(au.units.length > 0, `${name}: empty access unit`);
          invariant(
            Number.isInteger(au.rtpTimestamp) && au.rtpTimestamp >= 0 && au.rtpTimestamp < 2 ** 32,
            `${name}: timestamp ${au.rtpTimestamp}`,
          );
          for (const u of au.units) emitted += u.length;
        }
      });
      // Output is made of input: reassembly only drops FU headers (RFC 6184 §5.8, RFC 7798 §4.4.3).
      invariant(emitted <= inputBytes, `${name}: emitted ${emitted} bytes from ${inputBytes} input bytes`);
    }
  }
}

/** RTP packets through parseRtpPacket and the H.264, H.265 and AAC depacketizers, direct and reordered. */
const rtpDepacketize: FuzzTarget = {
  name: 'rtp-depacketize',
  description: 'parseRtpPacket, RtpReorderBuffer and the three depacketizers on [u16 len][packet] records',
  maxInputBytes: 32 * 1024,
  dictionary: [
    Buffer.of(0x80),
    Buffer.of(0x80, 0xe0),
    Buffer.of(0x7c, 0x85),
    Buffer.of(0x7c, 0x45),
    Buffer.of(0x18),
    Buffer.of(0x62, 0x01, 0x93),
    Buffer.of(0x60, 0x01),
    Buffer.of(0x00, 0x10),
  ],
  run(input) {
    const packets: RtpPacket[] = [];
    for (const rec of cut(input)) {
      tolerate(() => {
        packets.push(parseRtpPacket(rec));
      });
    }
    feed(packets, input.length, () => {});

    // The UDP path: reorder, then depacketize, telling the depacketizer about losses.
    const rb = new RtpReorderBuffer({ windowPackets: 8 });
    const ordered: RtpPacket[] = [];
    let lostCalls = 0;
    for (const p of packets) {
      const r = rb.push(p);
      if (r.lost > 0) lostCalls++;
      invariant(r.lost >= 0, `negative loss ${r.lost}`);
      invariant(rb.buffered < 8, `reorder buffer holds ${rb.buffered}`);
      ordered.push(...r.packets);
    }
    const f = rb.flush();
    ordered.push(...f.packets);
    invariant(
      ordered.length + rb.duplicates + rb.late === packets.length,
      `reorder: ${ordered.length} out + ${rb.duplicates} dup + ${rb.late} late != ${packets.length} in`,
    );
    feed(ordered, input.length, (d) => {
      if (lostCalls > 0) d.lost();
    });
  },
};

/** Compound RTCP packets (RFC 3550 §6). */
const rtcp: FuzzTarget = {
  name: 'rtcp',
  description: 'parseRtcp: SR/RR/SDES/BYE compounds from our builders; report counts fit the lengths',
  maxInputBytes: 4096,
  dictionary: [200, 201, 202, 203, 204].map((t) => Buffer.of(0x81, t)),
  run(input) {
    const pkts = parseRtcp(input);
    invariant(
      pkts.length > 0 && pkts.length <= input.length / 4,
      `${pkts.length} packets from ${input.length} bytes`,
    );
    for (const p of pkts) {
      if (p.type === 'sr' || p.type === 'rr') {
        invariant(p.reports.length <= 31, `${p.reports.length} report blocks`);
        for (const r of p.reports)
          invariant(r.cumulativeLost >= -0x800000 && r.cumulativeLost <= 0x7fffff, 'cumulative lost');
      }
    }
  },
};

export const targets: readonly FuzzTarget[] = [rtpDepacketize, rtcp];
