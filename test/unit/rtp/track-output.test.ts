import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import {
  forEachInterleaved,
  interleavedHeader,
  packetizeH264,
  parseRtpPacket,
  rtpPayload,
  RtpTrackOutput,
} from '../../../libs/rtp/index.ts';
import { h264Nal } from './helpers.ts';

test('sequence numbers wrap at 65535; interleaved framing; counters', () => {
  const out = new RtpTrackOutput({
    payloadType: 96,
    clockRate: 90000,
    ssrc: 0xcafebabe,
    initialSequence: 65534,
    channel: 2,
  });
  const payloads = packetizeH264([h264Nal(5, 2500)], 1000);
  assert.equal(payloads.length, 3);
  const buf = out.write(payloads, 0xfffffff0);
  const seen: { channel: number; seq: number; marker: boolean; len: number }[] = [];
  forEachInterleaved(buf, (channel, pkt) => {
    const p = parseRtpPacket(pkt);
    assert.equal(p.ssrc, 0xcafebabe);
    assert.equal(p.timestamp, 0xfffffff0);
    assert.equal(p.payloadType, 96);
    seen.push({ channel, seq: p.sequenceNumber, marker: p.marker, len: p.payload.length });
  });
  assert.deepEqual(
    seen.map((s) => [s.channel, s.seq, s.marker]),
    [
      [2, 65534, false],
      [2, 65535, false],
      [2, 0, true],
    ],
  );
  assert.equal(
    buf.length,
    payloads.reduce((n, p) => n + 4 + 12 + p.byteLength, 0),
  );
  assert.equal(buf[0], 0x24);
  assert.equal(buf.readUInt16BE(2), 12 + payloads[0]!.byteLength);
  assert.equal(out.nextSequence, 1);
  assert.equal(out.packetCount, 3);
  assert.equal(
    out.octetCount,
    payloads.reduce((n, p) => n + p.byteLength, 0),
  );
  assert.equal(out.lastRtpTimestamp, 0xfffffff0);
  assert.equal(out.clockRate, 90000);
});

test('rtpTimestampOffset moves a packet timestamp, wrapping at 2^32', () => {
  const out = new RtpTrackOutput({
    payloadType: 97,
    clockRate: 48000,
    ssrc: 1,
    initialSequence: 0,
    channel: 0,
  });
  const buf = out.write(
    [rtpPayload([Buffer.of(1)], true), rtpPayload([Buffer.of(2)], true, 2048)],
    0xffffffff,
  );
  const ts: number[] = [];
  forEachInterleaved(buf, (_c, p) => ts.push(parseRtpPacket(p).timestamp));
  assert.deepEqual(ts, [0xffffffff, 2047]);
  assert.equal(out.lastRtpTimestamp, 2047);
});

test('a payload too big for an interleaved record is refused before anything is written', () => {
  const out = new RtpTrackOutput({
    payloadType: 96,
    clockRate: 90000,
    ssrc: 1,
    initialSequence: 5,
    channel: 0,
  });
  assert.throws(
    () => out.write([rtpPayload([Buffer.of(1)], false), rtpPayload([Buffer.alloc(65524)], true)], 0),
    RangeError,
  );
  assert.equal(out.nextSequence, 5);
  assert.equal(out.packetCount, 0);
});

test('interleavedHeader and malformed records', () => {
  assert.deepEqual([...interleavedHeader(1, 0x1234)], [0x24, 1, 0x12, 0x34]);
  for (const b of [Buffer.of(0x23, 0, 0, 0), Buffer.of(0x24, 0, 0), Buffer.of(0x24, 0, 0, 2, 1)]) {
    assert.throws(
      () => forEachInterleaved(b, () => {}),
      (e) => e instanceof ProtocolError && e.code === 'RTP_BAD_INTERLEAVED',
    );
  }
  const got: number[][] = [];
  forEachInterleaved(Buffer.of(0x24, 3, 0, 0, 0x24, 4, 0, 1, 9), (c, p) => got.push([c, ...p]));
  assert.deepEqual(got, [[3], [4, 9]]);
});
