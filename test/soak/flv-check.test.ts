import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isProtocolError } from '../../libs/errors/protocol-error.ts';
import { FlvStreamCheck } from './flv-check.ts';
import { MediaCheck } from './media-check.ts';

const FLV = readFileSync(new URL('../fixtures/flv/x.flv', import.meta.url));

type Seen = [type: number, ts: number, b0: number, b1: number, size: number];

function run(parts: Buffer[]): Seen[] {
  const seen: Seen[] = [];
  const c = new FlvStreamCheck((...t) => seen.push(t));
  for (const p of parts) c.push(p);
  return seen;
}

const whole = run([FLV]);

test('the fixture: 32 tags, script first, a key frame before any other video frame', () => {
  assert.equal(whole.length, 32);
  assert.equal(whole[0]![0], 18);
  const m = new MediaCheck();
  for (const [t, ts, b0, b1] of whole) m.onTag(t, ts, b0, b1);
  assert.ok(m.firstKeyFrameAt > 0);
  assert.equal(m.badStart, null);
  assert.equal(m.regression, null);
  // AVC end of sequence (packet type 2) is last and is not a frame.
  assert.deepEqual(whole.at(-1)!.slice(0, 1), [9]);
});

test('the same tags whatever the split', () => {
  for (let i = 0; i <= FLV.length; i++) {
    assert.deepEqual(run([FLV.subarray(0, i), FLV.subarray(i)]), whole, `split at ${i}`);
  }
  assert.deepEqual(run([...FLV].map((b) => Buffer.of(b))), whole, 'byte by byte');
});

const rejects = (bytes: Buffer, code: string): void =>
  assert.throws(
    () => run([bytes]),
    (e: unknown) => isProtocolError(e) && e.code === code,
  );

test('broken streams raise ProtocolError with a code', () => {
  const sig = Buffer.from(FLV);
  sig[0] = 0x47;
  rejects(sig, 'FLV_BAD_SIGNATURE');
  const ver = Buffer.from(FLV);
  ver[3] = 2;
  rejects(ver, 'FLV_BAD_HEADER');
  // PreviousTagSize of the first tag: header 9 + PTS0 4 + tag header 11 + body.
  const size0 = FLV.readUIntBE(13 + 1, 3);
  const prev = Buffer.from(FLV);
  prev.writeUInt32BE(12345, 13 + 11 + size0);
  rejects(prev, 'FLV_BAD_PREVIOUS_TAG_SIZE');
  const type = Buffer.from(FLV);
  type[13] = 7;
  rejects(type, 'FLV_BAD_TAG_TYPE');
  // A stream cut in the middle of a tag (a server bug that loses bytes) breaks framing.
  const spliced = Buffer.concat([FLV.subarray(0, 500), FLV.subarray(520)]);
  assert.throws(() => run([spliced]), isProtocolError);
});

test('MediaCheck: a start on a non-key frame and a timestamp going back are reported', () => {
  const m = new MediaCheck();
  m.onTag(9, 0, 0x17, 0); // AVC sequence header: not a frame
  m.onTag(9, 40, 0x27, 1); // inter frame first: a broken start
  assert.match(m.badStart ?? '', /not a key frame/);
  m.onTag(8, 100, 0xaf, 1);
  m.onTag(8, 90, 0xaf, 1);
  assert.equal(m.regression, 'audio 100 -> 90 ms');
  const ok = new MediaCheck();
  ok.onTag(9, 0, 0x17, 0);
  ok.onTag(9, 0, 0x17, 1);
  ok.onTag(9, 40, 0x27, 1);
  assert.equal(ok.badStart, null);
  assert.ok(ok.firstKeyFrameAt > 0);
});
