import { test } from 'node:test';
import assert from 'node:assert/strict';
import { msToRtp, RtpTimeline } from '../../../libs/rtp/index.ts';

test('timeline: relative to the first timestamp, stable across the 2^32 wrap', () => {
  const t = new RtpTimeline(90000);
  const start = 2 ** 32 - 9000; // 100 ms before the wrap
  const got = [0, 3000, 6000, 9000, 12000, 90000 * 3600].map((d) => t.toMs((start + d) % 2 ** 32));
  assert.deepEqual(got, [0, 1000 / 30, 2000 / 30, 100, 400 / 3, 3_600_000]);
});

test('timeline: small steps back (B-frames) and fractional ms', () => {
  const t = new RtpTimeline(90000);
  assert.equal(t.toMs(5), 0);
  assert.equal(t.toMs(5 + 9000), 100);
  assert.equal(t.toMs(5 + 6000), 200 / 3);
  assert.equal(t.toMs(5 + 12000), 400 / 3);
  assert.equal(t.toMs(8), 1 / 30);
});

test('timeline: several wraps keep counting', () => {
  const t = new RtpTimeline(48000);
  let ts = 123;
  t.toMs(ts);
  const step = 2 ** 30;
  for (let i = 1; i <= 12; i++) {
    ts = (ts + step) % 2 ** 32;
    assert.equal(t.toMs(ts), (i * step * 1000) / 48000);
  }
});

test('msToRtp wraps to u32 and round trips through the timeline', () => {
  assert.equal(msToRtp(0, 90000, 0xffffffff), 0xffffffff);
  assert.equal(msToRtp(1, 90000, 0xffffffff), 89);
  assert.equal(msToRtp(1000, 48000, 5), 48005);
  assert.equal(msToRtp(-1, 90000, 0), 2 ** 32 - 90);
  const t = new RtpTimeline(90000);
  for (const ms of [0, 40, 80, 1e7]) assert.equal(t.toMs(msToRtp(ms, 90000, 4e9)), ms);
});
