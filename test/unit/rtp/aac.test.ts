import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { AAC_HBR, AacDepacketizer, packetizeAac, payloadBytes } from '../../../libs/rtp/index.ts';
import { bytes, Wire } from './helpers.ts';

const frames = (n: number, size: (i: number) => number): Buffer[] =>
  Array.from({ length: n }, (_, i) => bytes(size(i), i + 1));

const cases: { name: string; aus: Buffer[]; max: number; packets: number; markers?: boolean[] }[] = [
  { name: 'one AU', aus: frames(1, () => 300), max: 1400, packets: 1 },
  // 2 + 4 * (2 + 300) = 1210; the fifth does not fit.
  { name: 'many small AUs', aus: frames(9, () => 300), max: 1400, packets: 3 },
  { name: 'AUs exactly filling a packet', aus: frames(2, () => 48), max: 2 + 2 * 50, packets: 1 },
  {
    name: 'one huge fragmented AU',
    aus: frames(1, () => 5000),
    max: 1400,
    packets: 4,
    markers: [false, false, false, true],
  },
  { name: 'small, huge, small', aus: [bytes(10, 1), bytes(3000, 2), bytes(10, 3)], max: 1400, packets: 5 },
  { name: 'fragments of 1 byte', aus: [bytes(3, 4)], max: 5, packets: 3, markers: [false, false, true] },
  { name: 'largest AU-size', aus: [bytes(8191, 5)], max: 1400, packets: 6 },
];

for (const c of cases) {
  test(`AAC round trip: ${c.name}`, () => {
    const payloads = packetizeAac(c.aus, c.max);
    assert.equal(payloads.length, c.packets);
    for (const p of payloads) assert.ok(p.byteLength <= c.max);
    if (c.markers)
      assert.deepEqual(
        payloads.map((p) => p.marker),
        c.markers,
      );
    const d = new AacDepacketizer(AAC_HBR);
    const aus = new Wire(65530, 48000).packets(payloads, 4294966000).flatMap((p) => d.push(p));
    assert.deepEqual(
      aus.map((a) => a.units[0]),
      c.aus,
    );
    assert.deepEqual(
      aus.map((a) => a.rtpTimestamp),
      c.aus.map((_, i) => (4294966000 + i * 1024) % 2 ** 32),
    );
    assert.ok(aus.every((a) => a.keyFrame && a.units.length === 1));
    assert.equal(d.droppedUnits, 0);
  });
}

test('AAC: AU-header bytes', () => {
  const p = payloadBytes(packetizeAac([bytes(300, 1), bytes(5, 2)], 1400)[0]!);
  assert.deepEqual([...p.subarray(0, 6)], [0, 32, (300 << 3) >> 8, (300 << 3) & 0xff, 0, 5 << 3]);
});

test('AAC: an AU over 8191 bytes is RTP_AAC_AU_TOO_LARGE', () => {
  assert.throws(
    () => packetizeAac([Buffer.alloc(8192)], 1400),
    (e) => e instanceof ProtocolError && e.code === 'RTP_AAC_AU_TOO_LARGE',
  );
});

test('AAC: a lost fragment drops only that AU', () => {
  const aus = [bytes(3000, 1), bytes(100, 2)];
  const w = new Wire();
  const pkts = [
    ...w.packets(packetizeAac([aus[0]!], 1400), 0),
    ...w.packets(packetizeAac([aus[1]!], 1400), 1024),
  ];
  assert.equal(pkts.length, 4);
  const d = new AacDepacketizer(AAC_HBR);
  const out = [pkts[0]!, pkts[2]!, pkts[3]!].flatMap((p) => d.push(p));
  assert.deepEqual(
    out.map((a) => a.units[0]),
    [aus[1]],
  );
  assert.equal(d.droppedUnits, 1);
});

test('AAC-lbr field widths (sizelength 6, index 2)', () => {
  // Two AUs of 3 and 2 bytes: headers 8 bits each = 16 bits.
  const payload = Buffer.from([0, 16, 3 << 2, 2 << 2, 1, 2, 3, 4, 5]);
  const d = new AacDepacketizer({ sizeLength: 6, indexLength: 2, indexDeltaLength: 2 });
  const out = d.push({ marker: true, payloadType: 97, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload });
  assert.deepEqual(
    out.map((a) => [...a.units[0]!]),
    [
      [1, 2, 3],
      [4, 5],
    ],
  );
});

const bad: { name: string; payload: number[]; code: string }[] = [
  { name: 'no AU-headers-length', payload: [0], code: 'RTP_BAD_AAC_HEADERS' },
  { name: 'headers past the end', payload: [0, 32, 0], code: 'RTP_BAD_AAC_HEADERS' },
  { name: 'headers length not a whole header', payload: [0, 8, 0], code: 'RTP_BAD_AAC_HEADERS' },
  { name: 'two AUs larger than the data', payload: [0, 32, 0, 8, 0, 8, 1], code: 'RTP_BAD_AAC_HEADERS' },
];
for (const c of bad) {
  test(`AAC malformed: ${c.name}`, () => {
    const d = new AacDepacketizer(AAC_HBR);
    const pkt = {
      marker: true,
      payloadType: 97,
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

test('AAC: bad SDP field widths are RTP_BAD_AAC_CONFIG', () => {
  for (const o of [
    { sizeLength: 0, indexLength: 3, indexDeltaLength: 3 },
    { sizeLength: 40, indexLength: 3, indexDeltaLength: 3 },
    { sizeLength: 13, indexLength: -1, indexDeltaLength: 3 },
    { sizeLength: 13.5, indexLength: 3, indexDeltaLength: 3 },
  ]) {
    assert.throws(
      () => new AacDepacketizer(o),
      (e) => e instanceof ProtocolError && e.code === 'RTP_BAD_AAC_CONFIG',
    );
  }
});
