import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { buildReceiverReport, buildSenderReport, ntpFromUnixMs, parseRtcp } from '../../../libs/rtp/index.ts';
import type { RtcpReportBlock } from '../../../libs/rtp/index.ts';

test('SR + SDES round trip', () => {
  const ms = 1_700_000_000_250;
  const b = buildSenderReport({
    ssrc: 0xdeadbeef,
    ntpTimeMs: ms,
    rtpTimestamp: 0xfffffffe,
    packetCount: 42,
    octetCount: 123456,
    cname: 'sluice',
  });
  assert.equal(b.length % 4, 0);
  const pkts = parseRtcp(b);
  assert.deepEqual(pkts, [
    {
      type: 'sr',
      ssrc: 0xdeadbeef,
      ntpMsw: 1_700_000_000 + 2_208_988_800,
      ntpLsw: 2 ** 30,
      rtpTimestamp: 0xfffffffe,
      packetCount: 42,
      octetCount: 123456,
      reports: [],
    },
    { type: 'other', packetType: 202 },
  ]);
  // CNAME item: type 1, length, text, then at least one null octet.
  assert.equal(b.subarray(38, 38 + 6).toString(), 'sluice');
  assert.equal(b[36], 1);
  assert.equal(b[37], 6);
});

test('NTP time of the Unix epoch', () => {
  assert.deepEqual(ntpFromUnixMs(0), { msw: 2_208_988_800, lsw: 0 });
  assert.deepEqual(ntpFromUnixMs(500), { msw: 2_208_988_800, lsw: 2 ** 31 });
});

test('RR round trip with report blocks (negative cumulative loss)', () => {
  const reports: RtcpReportBlock[] = [
    {
      ssrc: 1,
      fractionLost: 25,
      cumulativeLost: 1000,
      highestSequence: 0x1ffff,
      jitter: 77,
      lastSr: 0x12345678,
      delaySinceLastSr: 65536,
    },
    {
      ssrc: 2,
      fractionLost: 0,
      cumulativeLost: -3,
      highestSequence: 5,
      jitter: 0,
      lastSr: 0,
      delaySinceLastSr: 0,
    },
  ];
  for (const cname of ['', 'abc', 'abcd', 'x'.repeat(300)]) {
    const b = buildReceiverReport({ ssrc: 9, reports, cname });
    assert.equal(b.length % 4, 0);
    assert.deepEqual(parseRtcp(b), [
      { type: 'rr', ssrc: 9, reports },
      { type: 'other', packetType: 202 },
    ]);
  }
});

test('BYE and padding', () => {
  // BYE with two SSRCs, padded by 4 bytes (P bit, last octet 4).
  const b = Buffer.from([0xa2, 203, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4]);
  assert.deepEqual(parseRtcp(b), [{ type: 'bye', ssrcs: [1, 2] }]);
});

const bad: { name: string; bytes: number[]; code: string }[] = [
  { name: 'empty', bytes: [], code: 'RTCP_TRUNCATED' },
  { name: 'short header', bytes: [0x80, 200, 0], code: 'RTCP_TRUNCATED' },
  { name: 'version 1', bytes: [0x40, 200, 0, 0], code: 'RTCP_BAD_VERSION' },
  { name: 'length past the end', bytes: [0x80, 201, 0, 2, 0, 0, 0, 1], code: 'RTCP_TRUNCATED' },
  { name: 'RR count past its length', bytes: [0x81, 201, 0, 1, 0, 0, 0, 1], code: 'RTCP_BAD_PACKET' },
  { name: 'SR too short', bytes: [0x80, 200, 0, 1, 0, 0, 0, 1], code: 'RTCP_BAD_PACKET' },
  { name: 'BYE count past its length', bytes: [0x82, 203, 0, 1, 0, 0, 0, 1], code: 'RTCP_BAD_PACKET' },
  { name: 'padding 0', bytes: [0xa0, 203, 0, 1, 0, 0, 0, 0], code: 'RTCP_BAD_PACKET' },
  { name: 'padding too big', bytes: [0xa0, 203, 0, 1, 0, 0, 0, 9], code: 'RTCP_BAD_PACKET' },
];
for (const c of bad) {
  test(`parseRtcp malformed: ${c.name}`, () => {
    assert.throws(
      () => parseRtcp(Buffer.from(c.bytes)),
      (e) => e instanceof ProtocolError && e.code === c.code,
    );
  });
}

test('random garbage raises only ProtocolError', () => {
  let x = 3;
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.alloc(4 + (i % 60));
    for (let k = 0; k < b.length; k++) b[k] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    b[0] = 0x80 | (b[0]! & 0x3f);
    try {
      parseRtcp(b);
    } catch (e) {
      assert.ok(e instanceof ProtocolError, String(e));
    }
  }
});
