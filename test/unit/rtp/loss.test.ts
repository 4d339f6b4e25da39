import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  H264Depacketizer,
  H265Depacketizer,
  packetizeH264,
  packetizeH265,
  RtpReorderBuffer,
} from '../../../libs/rtp/index.ts';
import type { AccessUnit, RtpPacket } from '../../../libs/rtp/index.ts';
import { h264Nal, h265Nal, Wire } from './helpers.ts';

/** A GOP-like sequence: IDR AU (SPS, PPS, big IDR), P frames, then a second IDR AU. */
function h264Stream(): Buffer[][] {
  const idr = (seed: number): Buffer[] => [h264Nal(7, 10, seed), h264Nal(8, 4, seed), h264Nal(5, 3000, seed)];
  return [
    idr(1),
    [h264Nal(1, 2500, 2)],
    [h264Nal(1, 400, 3)],
    [h264Nal(1, 2000, 4)],
    idr(5),
    [h264Nal(1, 300, 6)],
  ];
}

function packetsOf(
  aus: Buffer[][],
  packetize: (n: Buffer[], max: number) => ReturnType<typeof packetizeH264>,
) {
  const w = new Wire(65530);
  return aus.map((au, i) => w.packets(packetize(au, 1000), i * 3000));
}

const summary = (out: AccessUnit[]) => out.map((a) => [a.rtpTimestamp, a.keyFrame]);

for (const [codec, make, aus] of [
  ['H.264', () => new H264Depacketizer(), h264Stream()],
  [
    'H.265',
    () => new H265Depacketizer(),
    h264Stream().map((au) =>
      au.map((n, i) => h265Nal(n.length > 100 ? (au.length > 1 ? 19 : 1) : 32 + i, n.length, n[1]!)),
    ),
  ],
] as const) {
  const packetize = codec === 'H.264' ? packetizeH264 : packetizeH265;

  test(`${codec}: no loss gives every access unit back byte for byte`, () => {
    const d = make();
    const out = packetsOf(aus, packetize)
      .flat()
      .flatMap((p) => d.push(p));
    assert.deepEqual(
      out.map((a) => a.units),
      aus,
    );
  });

  for (const viaCall of [false, true]) {
    test(`${codec}: a middle fragment lost drops that AU and the next non-key AUs (${viaCall ? 'lost() called' : 'sequence gap seen'})`, () => {
      const per = packetsOf(aus, packetize);
      assert.ok(per[1]!.length >= 3);
      const d = make();
      const out: AccessUnit[] = [];
      per.forEach((pkts, i) => {
        pkts.forEach((p, k) => {
          if (i === 1 && k === 1) {
            if (viaCall) d.lost();
            return;
          }
          out.push(...d.push(p));
        });
      });
      assert.deepEqual(summary(out), [
        [0, true],
        [12000, true],
        [15000, false],
      ]);
      assert.deepEqual(out[1]!.units, aus[4]);
      assert.deepEqual(out[2]!.units, aus[5]);
      assert.equal(d.droppedUnits, 3);
    });
  }

  test(`${codec}: the start fragment of the first AU lost: that AU is not emitted`, () => {
    const per = packetsOf(aus, packetize);
    const d = make();
    const out = per[0]!.filter((_, k) => k !== 1).flatMap((p) => d.push(p));
    assert.deepEqual(out, []);
    const next = per
      .slice(1)
      .flat()
      .flatMap((p) => d.push(p));
    assert.deepEqual(summary(next), [
      [12000, true],
      [15000, false],
    ]);
  });
}

test('reorder buffer + depacketizer: shuffled packets give the stream back', () => {
  const aus = h264Stream();
  const pkts = packetsOf(aus, packetizeH264).flat();
  // The first packet starts the sequence; the rest arrive reversed in threes.
  const shuffled: RtpPacket[] = [pkts[0]!];
  for (let i = 1; i < pkts.length; i += 3) shuffled.push(...pkts.slice(i, i + 3).reverse());
  const rb = new RtpReorderBuffer({ windowPackets: 8 });
  const d = new H264Depacketizer();
  const out: AccessUnit[] = [];
  for (const p of shuffled) {
    const r = rb.push(p);
    if (r.lost > 0) d.lost();
    for (const q of r.packets) out.push(...d.push(q));
  }
  for (const q of rb.flush().packets) out.push(...d.push(q));
  assert.deepEqual(
    out.map((a) => a.units),
    aus,
  );
});
