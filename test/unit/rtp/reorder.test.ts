import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpReorderBuffer } from '../../../libs/rtp/index.ts';
import type { RtpPacket } from '../../../libs/rtp/index.ts';

const pkt = (seq: number): RtpPacket => ({
  marker: false,
  payloadType: 96,
  sequenceNumber: seq & 0xffff,
  timestamp: 0,
  ssrc: 1,
  payload: Buffer.of(seq & 0xff),
});

function run(rb: RtpReorderBuffer, seqs: number[]): { out: number[]; lost: number } {
  const out: number[] = [];
  let lost = 0;
  for (const s of seqs) {
    const r = rb.push(pkt(s));
    out.push(...r.packets.map((p) => p.sequenceNumber));
    lost += r.lost;
  }
  return { out, lost };
}

test('shuffled within the window comes out sorted, across the 16-bit wrap', () => {
  const seqs = Array.from({ length: 200 }, (_, i) => (65500 + i) & 0xffff);
  // Swap neighbours in blocks of 5 (a reorder of up to 4 positions).
  const shuffled = [seqs[0]!];
  for (let i = 1; i < seqs.length; i += 5) shuffled.push(...seqs.slice(i, i + 5).reverse());
  const rb = new RtpReorderBuffer({ windowPackets: 8 });
  const r = run(rb, shuffled);
  assert.deepEqual(r.out, seqs);
  assert.equal(r.lost, 0);
  assert.equal(rb.buffered, 0);
});

test('a gap is declared lost when a packet arrives a window ahead', () => {
  const rb = new RtpReorderBuffer({ windowPackets: 4 });
  const r = run(rb, [10, 11, 13, 14, 15]);
  assert.deepEqual(r.out, [10, 11]);
  assert.equal(rb.buffered, 3);
  const next = rb.push(pkt(16)); // 16 - 12 = 4 = window
  assert.deepEqual(
    next.packets.map((p) => p.sequenceNumber),
    [13, 14, 15, 16],
  );
  assert.equal(next.lost, 1);
});

test('flush releases what is held and counts the holes', () => {
  const rb = new RtpReorderBuffer();
  run(rb, [1, 3, 6]);
  const f = rb.flush();
  assert.deepEqual(
    f.packets.map((p) => p.sequenceNumber),
    [3, 6],
  );
  assert.equal(f.lost, 3);
  assert.deepEqual(
    rb.push(pkt(7)).packets.map((p) => p.sequenceNumber),
    [7],
  );
});

test('duplicates and late packets are dropped and counted', () => {
  const rb = new RtpReorderBuffer({ windowPackets: 8 });
  const r = run(rb, [1, 2, 2, 4, 4, 1, 3, 65535]);
  assert.deepEqual(r.out, [1, 2, 3, 4]);
  assert.equal(rb.duplicates, 3); // 2 released, 4 held, 1 released
  assert.equal(rb.late, 1); // 65535: 6 behind, within the window, never released
});

test('a huge jump flushes and restarts there', () => {
  const rb = new RtpReorderBuffer({ windowPackets: 16 });
  const r1 = run(rb, [100, 101, 103]);
  assert.deepEqual(r1.out, [100, 101]);
  const j = rb.push(pkt(5000));
  assert.deepEqual(
    j.packets.map((p) => p.sequenceNumber),
    [103, 5000],
  );
  assert.equal(j.lost, 5000 - 102 - 1);
  assert.deepEqual(run(rb, [5001, 5002]).out, [5001, 5002]);
  // Far behind (a sender restart) also restarts.
  const back = rb.push(pkt(10));
  assert.deepEqual(
    back.packets.map((p) => p.sequenceNumber),
    [10],
  );
  assert.ok(back.lost > 0);
});

test('never holds more than the window', () => {
  const rb = new RtpReorderBuffer({ windowPackets: 32 });
  rb.push(pkt(0));
  let x = 1;
  for (let i = 0; i < 20000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    rb.push(pkt(i + ((x >>> 16) % 40)));
    assert.ok(rb.buffered < 32);
  }
});
