import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsDemuxer } from '../../../libs/mpegts/index.ts';
import { ContinuityCounters } from '../../../libs/mpegts/continuity.ts';
import {
  pesPacketCount,
  writePcrPacket,
  writePes,
  writeSectionPacket,
} from '../../../libs/mpegts/packetizer.ts';
import type { PesPacketization } from '../../../libs/mpegts/packetizer.ts';
import { pesHeaderSize } from '../../../libs/mpegts/pes.ts';
import { buildPat, buildPmt } from '../../../libs/mpegts/psi.ts';
import { readTsPacket, newTsPacketInfo } from '../../../libs/mpegts/ts-packet.ts';
import { demuxAll, packetsOn, pesEvents } from './helpers.ts';

/** PAT + PMT announcing PID 0x100 (H.264) and 0x101 (AAC), so the demuxer follows both. */
function psi(cc: ContinuityCounters): Buffer {
  const out = Buffer.alloc(2 * 188);
  writeSectionPacket(
    out,
    0,
    0,
    buildPat({ transportStreamId: 1, version: 0, programs: [{ programNumber: 1, pmtPid: 0x1000 }] }),
    cc.take(0),
  );
  const pmt = buildPmt({
    programNumber: 1,
    version: 0,
    pcrPid: 0x100,
    streams: [
      { streamType: 0x1b, pid: 0x100, descriptors: Buffer.alloc(0) },
      { streamType: 0x0f, pid: 0x101, descriptors: Buffer.alloc(0) },
    ],
  });
  writeSectionPacket(out, 188, 0x1000, pmt, cc.take(0x1000));
  return out;
}

/** Payload bytes that vary with the position, split into uneven chunks. */
function payload(size: number, seed: number): Buffer[] {
  const all = Buffer.alloc(size);
  for (let i = 0; i < size; i++) all[i] = (i * 7 + seed) & 0xff;
  const chunks: Buffer[] = [];
  for (let at = 0, n = 1; at < size; at += n, n = n * 3 + 1) chunks.push(all.subarray(at, at + n));
  return chunks;
}

const variants: { name: string; spec: Omit<PesPacketization, 'payload' | 'payloadLength'> }[] = [
  {
    name: 'video, PTS+DTS, PCR and random access',
    spec: {
      pid: 0x100,
      streamId: 0xe0,
      pts90k: 7200,
      dts90k: 3600,
      bounded: false,
      pcr90k: 3600,
      randomAccess: true,
    },
  },
  {
    name: 'video, PTS only, random access without PCR',
    spec: {
      pid: 0x100,
      streamId: 0xe0,
      pts90k: 3600,
      dts90k: null,
      bounded: false,
      pcr90k: null,
      randomAccess: true,
    },
  },
  {
    name: 'audio, bounded, no adaptation field needed',
    spec: {
      pid: 0x101,
      streamId: 0xc0,
      pts90k: 1800,
      dts90k: null,
      bounded: true,
      pcr90k: null,
      randomAccess: false,
    },
  },
];

for (const v of variants) {
  test(`stuffing at every payload size 0..400: ${v.name}`, () => {
    const cc = new ContinuityCounters();
    const parts: Buffer[] = [psi(cc)];
    const specs: PesPacketization[] = [];
    for (let size = 0; size <= 400; size++) {
      const chunks = payload(size, size);
      const spec: PesPacketization = { ...v.spec, payload: chunks, payloadLength: size };
      const count = pesPacketCount(spec);
      // The fewest packets that can hold header + payload (+ adaptation field in the first).
      const header = pesHeaderSize(spec);
      const af = spec.pcr90k !== null ? 8 : spec.randomAccess ? 2 : 0;
      assert.equal(count, Math.max(1, Math.ceil((header + size + af) / 184)), `size ${size}`);
      const out = Buffer.alloc(count * 188, 0xaa);
      assert.equal(writePes(out, 0, spec, cc), out.length);
      // Every byte is written: the same packets over a differently filled buffer are identical.
      const again = Buffer.alloc(count * 188, 0x55);
      const ccAgain = new ContinuityCounters();
      for (let i = 0; i < out[3]! % 16; i++) ccAgain.take(spec.pid);
      writePes(again, 0, spec, ccAgain);
      assert.deepEqual(again, out, `size ${size}`);
      for (let at = 0; at < out.length; at += 188) {
        assert.equal(out[at], 0x47);
        const info = newTsPacketInfo();
        assert.ok(readTsPacket(out, at, info), `size ${size}: packet at ${at} reads back`);
        assert.equal(info.payloadUnitStart, at === 0);
        assert.equal(info.randomAccess, at === 0 && spec.randomAccess);
        assert.equal(info.pcr90k, at === 0 && spec.pcr90k !== null ? spec.pcr90k : -1);
        if ((out[at + 3]! & 0x20) !== 0 && out[at + 4]! > 0) {
          // Adaptation field stuffing after the flags (and PCR) is all 0xFF.
          const stuffingStart = at + 6 + (info.pcr90k >= 0 ? 6 : 0);
          assert.ok(out.subarray(stuffingStart, at + 5 + out[at + 4]!).every((b) => b === 0xff));
        }
      }
      parts.push(out);
      specs.push(spec);
    }
    const ts = Buffer.concat(parts);
    const d = new TsDemuxer();
    const pes = pesEvents(demuxAll(ts, d));
    assert.equal(pes.length, 401);
    pes.forEach((e, size) => {
      assert.deepEqual(e.data, Buffer.concat(specs[size]!.payload), `size ${size}`);
      assert.equal(e.pts90k, v.spec.pts90k);
      assert.equal(e.dts90k, v.spec.dts90k ?? v.spec.pts90k);
    });
    assert.equal(d.stats.continuity.size, 0);
  });
}

test('continuity counters run 0..15 and wrap, per PID, only on packets with payload', () => {
  const cc = new ContinuityCounters();
  const parts: Buffer[] = [];
  for (let i = 0; i < 40; i++) {
    const pid = i % 3 === 0 ? 0x101 : 0x100;
    const spec: PesPacketization = {
      pid,
      streamId: pid === 0x100 ? 0xe0 : 0xc0,
      pts90k: i * 3000,
      dts90k: null,
      bounded: pid === 0x101,
      pcr90k: null,
      randomAccess: false,
      payload: payload(100 + i * 37, i),
      payloadLength: 100 + i * 37,
    };
    const out = Buffer.alloc(pesPacketCount(spec) * 188);
    writePes(out, 0, spec, cc);
    parts.push(out);
    if (i % 5 === 0) {
      const pcr = Buffer.alloc(188);
      writePcrPacket(pcr, 0, 0x100, i * 3000, cc);
      parts.push(pcr);
    }
  }
  const ts = Buffer.concat(parts);
  for (const pid of [0x100, 0x101]) {
    const packets = packetsOn(ts, pid);
    let expected = 0;
    let wrapped = false;
    for (const p of packets) {
      if (!p.payload) {
        // Adaptation-only: repeats the counter last used (15 before any).
        assert.equal(p.cc, (expected + 15) & 15);
        continue;
      }
      assert.equal(p.cc, expected, `PID ${pid} packet ${p.index}`);
      if (expected === 15) wrapped = true;
      expected = (expected + 1) & 15;
    }
    assert.ok(wrapped, `PID ${pid} wrapped past 15`);
  }
  cc.reset();
  assert.equal(cc.take(0x100), 0);
  assert.equal(cc.last(0x101), 15);
});

test('a section packet: pointer_field 0, the section, 0xFF to the end', () => {
  const section = buildPat({
    transportStreamId: 1,
    version: 0,
    programs: [{ programNumber: 1, pmtPid: 0x1000 }],
  });
  const out = Buffer.alloc(188);
  writeSectionPacket(out, 0, 0, section, 9);
  assert.equal(out.subarray(0, 5).toString('hex'), '4740001900');
  assert.deepEqual(out.subarray(5, 5 + section.length), section);
  assert.ok(out.subarray(5 + section.length).every((b) => b === 0xff));
  assert.throws(() => writeSectionPacket(out, 0, 0, Buffer.alloc(184), 0), RangeError);
});
