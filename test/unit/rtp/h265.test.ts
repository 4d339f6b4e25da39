import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { H265Depacketizer, packetizeH265, payloadBytes } from '../../../libs/rtp/index.ts';
import { h265Nal, Wire } from './helpers.ts';

const VPS = h265Nal(32, 24);
const SPS = h265Nal(33, 40);
const PPS = h265Nal(34, 7);
const IDR = (n: number): Buffer => h265Nal(19, n);
const CRA = (n: number): Buffer => h265Nal(21, n);

const kind = (b: Buffer): string => {
  const t = (b[0]! >>> 1) & 0x3f;
  if (t !== 49) return String(t);
  return `${b[2]! & 0x80 ? 'S' : ''}49${b[2]! & 0x40 ? 'E' : ''}`;
};

const cases: { name: string; nalus: Buffer[]; max: number; kinds: string[]; last?: number }[] = [
  { name: 'single NAL', nalus: [IDR(500)], max: 1200, kinds: ['19'] },
  { name: 'AP of VPS+SPS+PPS+small IDR', nalus: [VPS, SPS, PPS, IDR(60)], max: 1200, kinds: ['48'] },
  // 2 + (2+24) + (2+40) = 70
  { name: 'AP exactly max, then single', nalus: [VPS, SPS, CRA(30)], max: 70, kinds: ['48', '21'] },
  { name: 'AP then FU', nalus: [VPS, SPS, PPS, IDR(2500)], max: 1200, kinds: ['48', 'S49', '49', '49E'] },
  // 2 + 2 * 1197 + 1: a 1-byte last fragment.
  {
    name: 'FU with a 1-byte last fragment',
    nalus: [IDR(2397)],
    max: 1200,
    kinds: ['S49', '49', '49E'],
    last: 4,
  },
  { name: 'FU one byte over', nalus: [IDR(1201)], max: 1200, kinds: ['S49', '49E'], last: 5 },
  { name: 'FU exact boundary', nalus: [IDR(2 + 2 * 1197)], max: 1200, kinds: ['S49', '49E'] },
  { name: 'FU of 1-byte fragments', nalus: [IDR(5)], max: 4, kinds: ['S49', '49', '49E'] },
];

for (const c of cases) {
  test(`H.265 round trip: ${c.name}`, () => {
    const payloads = packetizeH265(c.nalus, c.max);
    assert.deepEqual(
      payloads.map((p) => kind(payloadBytes(p))),
      c.kinds,
    );
    for (const p of payloads) assert.ok(p.byteLength <= c.max);
    if (c.last !== undefined) assert.equal(payloads.at(-1)!.byteLength, c.last);
    assert.deepEqual(
      payloads.map((p) => p.marker),
      payloads.map((_, i) => i === payloads.length - 1),
    );
    const d = new H265Depacketizer();
    const aus = new Wire().packets(payloads, 90000).flatMap((p) => d.push(p));
    assert.equal(aus.length, 1);
    assert.equal(aus[0]!.keyFrame, true);
    assert.deepEqual(aus[0]!.units, c.nalus);
  });
}

test('FU keeps the layer id and TID; AP takes the lowest', () => {
  const a = Buffer.from([19 << 1, (2 << 3) | 3, 9, 9, 9]);
  const b = Buffer.from([(1 << 1) | 0x80, (1 << 3) | 2, 7]);
  const ap = payloadBytes(packetizeH265([a, b], 100)[0]!);
  assert.deepEqual([...ap.subarray(0, 2)], [0x80 | (48 << 1), (1 << 3) | 2]);
  const fu = payloadBytes(packetizeH265([a], 4)[0]!);
  assert.deepEqual([...fu.subarray(0, 3)], [49 << 1, (2 << 3) | 3, 0x80 | 19]);
});

test('trailing pictures are not key frames; nothing before the first IRAP', () => {
  const d = new H265Depacketizer();
  const w = new Wire();
  assert.deepEqual(
    w.packets(packetizeH265([h265Nal(1, 50)], 1200), 0).flatMap((p) => d.push(p)),
    [],
  );
  const out = w.packets(packetizeH265([CRA(50)], 1200), 3000).flatMap((p) => d.push(p));
  assert.equal(out.length, 1);
  const trail = w.packets(packetizeH265([h265Nal(1, 50)], 1200), 6000).flatMap((p) => d.push(p));
  assert.equal(trail[0]!.keyFrame, false);
});

const bad: { name: string; payload: number[]; code: string }[] = [
  { name: '1-byte payload', payload: [2], code: 'RTP_TRUNCATED' },
  { name: 'AP size past the end', payload: [96, 1, 0, 9, 2, 1], code: 'RTP_BAD_AGGREGATE' },
  { name: 'AP NAL of 1 byte', payload: [96, 1, 0, 1, 2], code: 'RTP_BAD_AGGREGATE' },
  { name: 'FU without FU header', payload: [98, 1], code: 'RTP_BAD_FRAGMENT' },
  { name: 'PACI', payload: [100, 1, 0, 0], code: 'RTP_UNSUPPORTED_PAYLOAD' },
];
for (const c of bad) {
  test(`H.265 malformed: ${c.name}`, () => {
    const d = new H265Depacketizer();
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
