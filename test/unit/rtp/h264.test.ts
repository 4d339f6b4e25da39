import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { H264Depacketizer, packetizeH264, payloadBytes } from '../../../libs/rtp/index.ts';
import { h264Nal, Wire } from './helpers.ts';

const SPS = h264Nal(7, 12);
const PPS = h264Nal(8, 4);
const IDR = (n: number): Buffer => h264Nal(5, n);

const cases: { name: string; nalus: Buffer[]; max: number; kinds: string[]; last?: number }[] = [
  { name: 'single NAL', nalus: [IDR(100)], max: 1200, kinds: ['5'] },
  { name: 'NAL exactly max', nalus: [IDR(1200)], max: 1200, kinds: ['5'] },
  { name: 'STAP-A of SPS+PPS+small slice', nalus: [SPS, PPS, IDR(50)], max: 1200, kinds: ['24'] },
  // 1 + (2+12) + (2+4) = 21: exactly the limit.
  { name: 'STAP-A exactly max', nalus: [SPS, IDR(4)], max: 21, kinds: ['24'] },
  { name: 'STAP-A one byte over: two singles', nalus: [SPS, IDR(4)], max: 20, kinds: ['7', '5'] },
  { name: 'STAP-A then FU-A', nalus: [SPS, PPS, IDR(3000)], max: 1200, kinds: ['24', 'S28', '28', '28E'] },
  // 1201 bytes: header dropped, 1200 bytes in 1198-byte chunks: 1198 + 2.
  { name: 'FU-A one byte over', nalus: [IDR(1201)], max: 1200, kinds: ['S28', '28E'], last: 4 },
  // 1 + 2 * 1198 + 1: the last FU-A carries one byte.
  {
    name: 'FU-A with a 1-byte last fragment',
    nalus: [IDR(2398)],
    max: 1200,
    kinds: ['S28', '28', '28E'],
    last: 3,
  },
  // 1 + 2 * 1198: fragments exactly full.
  { name: 'FU-A exact boundary', nalus: [IDR(1 + 2 * 1198)], max: 1200, kinds: ['S28', '28E'] },
  { name: 'FU-A of 1-byte fragments', nalus: [IDR(5)], max: 3, kinds: ['S28', '28', '28', '28E'] },
  { name: 'slices then SEI', nalus: [IDR(700), IDR(700), h264Nal(6, 5)], max: 1000, kinds: ['5', '24'] },
  { name: 'empty NALs skipped', nalus: [Buffer.alloc(0), IDR(10)], max: 100, kinds: ['5'] },
];

for (const c of cases) {
  test(`H.264 round trip: ${c.name}`, () => {
    const payloads = packetizeH264(c.nalus, c.max);
    const kinds = payloads.map((p) => {
      const b = payloadBytes(p);
      const t = b[0]! & 0x1f;
      if (t !== 28) return String(t);
      return `${b[1]! & 0x80 ? 'S' : ''}28${b[1]! & 0x40 ? 'E' : ''}`;
    });
    assert.deepEqual(kinds, c.kinds);
    if (c.last !== undefined) assert.equal(payloads.at(-1)!.byteLength, c.last);
    for (const p of payloads) {
      assert.ok(p.byteLength <= c.max, `payload ${p.byteLength} > ${c.max}`);
      assert.equal(payloadBytes(p).length, p.byteLength);
    }
    assert.deepEqual(
      payloads.map((p) => p.marker),
      payloads.map((_, i) => i === payloads.length - 1),
    );
    const wire = new Wire();
    const d = new H264Depacketizer();
    const aus = wire.packets(payloads, 3000).flatMap((p) => d.push(p));
    assert.equal(aus.length, 1);
    assert.equal(aus[0]!.rtpTimestamp, 3000);
    assert.equal(aus[0]!.keyFrame, true);
    assert.deepEqual(
      aus[0]!.units,
      c.nalus.filter((n) => n.length > 0),
    );
  });
}

test('STAP-A NRI is the highest, F the OR', () => {
  const a = Buffer.from([0x01, 1, 2]);
  const b = Buffer.from([0x80 | 0x40 | 0x08, 3]);
  const p = payloadBytes(packetizeH264([a, b], 100)[0]!);
  assert.equal(p[0], 0x80 | 0x40 | 24);
});

test('an access unit ends when the timestamp changes even without marker', () => {
  const d = new H264Depacketizer();
  const mk = (seq: number, ts: number, nal: Buffer) => ({
    marker: false,
    payloadType: 96,
    sequenceNumber: seq,
    timestamp: ts,
    ssrc: 1,
    payload: nal,
  });
  assert.deepEqual(d.push(mk(1, 100, IDR(10))), []);
  const out = d.push(mk(2, 200, h264Nal(1, 10)));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.rtpTimestamp, 100);
  assert.deepEqual(out[0]!.units, [IDR(10)]);
});

test('the first access unit emitted is a key frame', () => {
  const d = new H264Depacketizer();
  const wire = new Wire();
  const p1 = wire.packets(packetizeH264([h264Nal(1, 50)], 1200), 0);
  const p2 = wire.packets(packetizeH264([SPS, PPS, IDR(50)], 1200), 3000);
  assert.deepEqual(
    p1.flatMap((p) => d.push(p)),
    [],
  );
  assert.equal(d.droppedUnits, 1);
  assert.equal(p2.flatMap((p) => d.push(p)).length, 1);
});

const bad: { name: string; payload: number[]; code: string }[] = [
  { name: 'STAP-A size past the end', payload: [24, 0, 9, 0x65], code: 'RTP_BAD_AGGREGATE' },
  { name: 'STAP-A zero size', payload: [24, 0, 0], code: 'RTP_BAD_AGGREGATE' },
  { name: 'STAP-A truncated size', payload: [24, 0, 1, 0x65, 0], code: 'RTP_BAD_AGGREGATE' },
  { name: 'FU-A without header', payload: [28], code: 'RTP_BAD_FRAGMENT' },
  { name: 'FU-B', payload: [29, 0x85, 0, 0], code: 'RTP_UNSUPPORTED_PAYLOAD' },
  { name: 'STAP-B', payload: [25, 0, 0], code: 'RTP_UNSUPPORTED_PAYLOAD' },
];
for (const c of bad) {
  test(`H.264 malformed: ${c.name}`, () => {
    const d = new H264Depacketizer();
    const pkt = {
      marker: true,
      payloadType: 96,
      sequenceNumber: 1,
      timestamp: 0,
      ssrc: 1,
      payload: Buffer.from(c.payload),
    };
    assert.throws(
      () => d.push(pkt),
      (e) => e instanceof ProtocolError && e.code === c.code,
    );
  });
}

test('an access unit over 8 MiB is RTP_FRAME_TOO_LARGE', () => {
  const d = new H264Depacketizer();
  const chunk = Buffer.alloc(60000, 1);
  let seq = 0;
  const push = (payload: Buffer) =>
    d.push({ marker: false, payloadType: 96, sequenceNumber: seq++, timestamp: 0, ssrc: 1, payload });
  push(Buffer.concat([Buffer.of(0x7c, 0x85), chunk]));
  assert.throws(
    () => {
      for (let i = 0; i < 200; i++) push(Buffer.concat([Buffer.of(0x7c, 0x05), chunk]));
    },
    (e) => e instanceof ProtocolError && e.code === 'RTP_FRAME_TOO_LARGE',
  );
});

test('more than 1024 NAL units is RTP_TOO_MANY_NALS', () => {
  const d = new H264Depacketizer();
  assert.throws(
    () => {
      for (let i = 0; i < 1100; i++) {
        d.push({
          marker: false,
          payloadType: 96,
          sequenceNumber: i,
          timestamp: 0,
          ssrc: 1,
          payload: Buffer.of(0x65, 1),
        });
      }
    },
    (e) => e instanceof ProtocolError && e.code === 'RTP_TOO_MANY_NALS',
  );
});

test('maxPayloadBytes below 3 is a RangeError', () => {
  assert.throws(() => packetizeH264([IDR(10)], 2), RangeError);
});
