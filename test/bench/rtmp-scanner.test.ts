// The bench's RTMP chunk scanner against the library's ChunkReader (what RtmpClient reassembles
// with). Run: node --import tsx --test test/bench/rtmp-scanner.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import { FlvReader } from '../../libs/flv/index.ts';
import { ChunkReader } from '../../libs/rtmp/chunk-reader.ts';
import { encodeMessage } from '../../libs/rtmp/chunk-writer.ts';
import {
  connectResultMessage,
  Csid,
  onStatusMessage,
  sampleAccessMessage,
  StatusCode,
} from '../../libs/rtmp/commands.ts';
import {
  abortMessage,
  pingRequestMessage,
  setChunkSizeMessage,
  setPeerBandwidthMessage,
  streamBeginMessage,
  windowAckSizeMessage,
} from '../../libs/rtmp/control.ts';
import { MessageType, type RtmpMessage } from '../../libs/rtmp/message-types.ts';
import { xFlv } from '../unit/mpegts/helpers.ts';
import { RtmpChunkScanner } from './rtmp-scanner.ts';

const STREAM_ID = 1;
const isMedia = (t: number): boolean => t === MessageType.Audio || t === MessageType.Video;

/** What a bench player needs of a message, the same line from either parser. */
const line = (type: number, sid: number, ts: number, b0: number, b1: number, other: Buffer | null): string =>
  other === null ? `media ${type} ${sid} ${ts} ${b0} ${b1}` : `msg ${type} ${sid} ${other.toString('hex')}`;

/** ChunkReader's view: every message reassembled. */
function readerView(bytes: Buffer): string[] {
  return new ChunkReader()
    .push(bytes)
    .map((m) =>
      isMedia(m.typeId)
        ? line(m.typeId, m.streamId, m.timestamp, m.payload[0] ?? -1, m.payload[1] ?? -1, null)
        : line(m.typeId, m.streamId, m.timestamp, 0, 0, m.payload),
    );
}

/** The scanner's view with `bytes` pushed in the pieces between `cuts`. */
function scannerView(bytes: Buffer, cuts: number[]): string[] {
  const s = new RtmpChunkScanner();
  const out: string[] = [];
  s.onMedia = (type, sid, ts, b0, b1) => out.push(line(type, sid, ts, b0, b1, null));
  s.onMessage = (type, sid, payload) => out.push(line(type, sid, 0, 0, 0, payload));
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    s.push(bytes.subarray(at, cut));
    at = cut;
  }
  return out;
}

/**
 * Every split in two, every byte on its own, and a few read sizes: the scanner must give the same
 * lines in the same order each time, and the same lines as ChunkReader (whose order differs when
 * chunk streams interleave: it reports a message when complete, the scanner at its 2nd byte).
 */
function checkAllSplits(bytes: Buffer): string[] {
  const whole = scannerView(bytes, []);
  assert.deepEqual([...whole].sort(), readerView(bytes).sort());
  for (let cut = 0; cut <= bytes.length; cut++)
    assert.deepEqual(scannerView(bytes, [cut]), whole, `cut ${cut}`);
  for (const step of [1, 2, 3, 17, 127, 128, 129, 4096]) {
    const cuts: number[] = [];
    for (let at = step; at < bytes.length; at += step) cuts.push(at);
    assert.deepEqual(scannerView(bytes, cuts), whole, `step ${step}`);
  }
  return whole;
}

const media = (typeId: 8 | 9, timestamp: number, payload: Buffer, csid: number): RtmpMessage => ({
  csid,
  typeId,
  streamId: STREAM_ID,
  timestamp,
  payload,
});

/** x.flv's audio and video as a Sluice player gets them: fmt 0 + fmt 3 continuation (services/node/formats.ts). */
function sluiceMedia(chunkSize: number, tsOffset: number): Buffer[] {
  return new FlvReader()
    .push(xFlv())
    .filter((t) => t.type === 8 || t.type === 9)
    .map((t) =>
      encodeMessage(
        media(
          t.type as 8 | 9,
          t.timestampMs + tsOffset,
          t.body,
          t.type === MessageType.Audio ? Csid.Audio : Csid.Video,
        ),
        chunkSize,
      ),
    );
}

test('RtmpChunkScanner on Sluice output: play answers, chunk size changes, extended timestamps', () => {
  const at = (size: number, ...msgs: RtmpMessage[]): Buffer[] => msgs.map((m) => encodeMessage(m, size));
  // What RtmpServerConnection sends a player (connect, then play), then the media at several chunk sizes.
  const bytes = Buffer.concat([
    ...at(
      128,
      windowAckSizeMessage(2_500_000),
      setPeerBandwidthMessage(2_500_000, 2),
      setChunkSizeMessage(60),
    ),
    ...at(
      60,
      connectResultMessage(1, 0),
      streamBeginMessage(STREAM_ID),
      onStatusMessage(STREAM_ID, 'status', StatusCode.PlayStart, 'Started playing live/a.'),
      sampleAccessMessage(STREAM_ID),
    ),
    ...sluiceMedia(60, 0),
    ...at(60, setChunkSizeMessage(4096)),
    ...sluiceMedia(4096, 1000),
    ...at(4096, pingRequestMessage(1234), setChunkSizeMessage(128)),
    // Past 0xFFFFFF ms (4.6 h) the timestamp moves to the extended field, repeated on every fmt 3 chunk.
    ...sluiceMedia(128, 0xffffff - 200),
  ]);
  const lines = checkAllSplits(bytes);
  const frames = lines.filter((l) => l.startsWith('media'));
  assert.equal(frames.length, 3 * new FlvReader().push(xFlv()).filter((t) => t.type !== 18).length);
  assert.ok(
    frames.includes(`media 9 1 ${0xffffff - 200 + 100} 39 1`),
    'an inter frame past the 24-bit range',
  );
  assert.ok(
    frames.some((l) => l.startsWith('media 9 1 0 23 1')),
    'the key frame at 0',
  );
});

/** One chunk with a header written by hand (RTMP spec §5.3.1), for the forms Sluice never sends. */
function chunk(
  fmt: 0 | 1 | 2 | 3,
  csid: number,
  h: { ts?: number; length?: number; type?: number; sid?: number; extended?: number },
  payload: Buffer,
): Buffer {
  const basic =
    csid < 64
      ? Buffer.of((fmt << 6) | csid)
      : csid < 320
        ? Buffer.of(fmt << 6, csid - 64)
        : Buffer.of((fmt << 6) | 1, (csid - 64) & 0xff, (csid - 64) >> 8);
  const mh = Buffer.alloc([11, 7, 3, 0][fmt]!);
  if (fmt < 3) mh.writeUIntBE(h.extended === undefined ? h.ts! : 0xffffff, 0, 3);
  if (fmt < 2) {
    mh.writeUIntBE(h.length!, 3, 3);
    mh[6] = h.type!;
  }
  if (fmt === 0) mh.writeUInt32LE(h.sid!, 7);
  const ext = h.extended === undefined ? Buffer.alloc(0) : Buffer.alloc(4);
  if (h.extended !== undefined) ext.writeUInt32BE(h.extended);
  return Buffer.concat([basic, mh, ext, payload]);
}

const bytesOf = (n: number, first: number): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, i) => (first + i) & 0xff));

test('RtmpChunkScanner: fmt 1/2/3 compression, long chunk stream ids, interleaving, Abort, short messages', () => {
  const v = bytesOf(300, 0x17); // 3 chunks at 128: fmt 0 + two fmt 3 continuations
  const bytes = Buffer.concat([
    chunk(0, 6, { ts: 1000, length: 300, type: 9, sid: 1 }, v.subarray(0, 128)),
    // An audio message interleaved between the video's chunks.
    chunk(0, 4, { ts: 1001, length: 4, type: 8, sid: 1 }, Buffer.of(0xaf, 1, 2, 3)),
    chunk(3, 6, {}, v.subarray(128, 256)),
    chunk(2, 4, { ts: 21 }, Buffer.of(0xaf, 1, 4, 5)), // fmt 2: +21, same length/type
    chunk(3, 6, {}, v.subarray(256)),
    chunk(3, 4, {}, Buffer.of(0xaf, 1, 6, 7)), // fmt 3 new message: +21 again
    chunk(1, 6, { ts: 40, length: 2, type: 9 }, Buffer.of(0x27, 1)), // fmt 1: new length, +40
    chunk(3, 6, {}, Buffer.of(0x27, 1)), // +40 again
    // 2- and 3-byte basic headers; a 1-byte and an empty media message.
    chunk(0, 100, { ts: 5, length: 1, type: 8, sid: 1 }, Buffer.of(0xaf)),
    chunk(0, 400, { ts: 6, length: 0, type: 9, sid: 1 }, Buffer.alloc(0)),
    // fmt 1 with an extended delta, then a fmt 3 new message repeating it (extended bytes again).
    chunk(1, 4, { length: 3, type: 8, extended: 0x1000000 }, Buffer.of(0xaf, 1, 8)),
    chunk(3, 4, { extended: 0x1000000 }, Buffer.of(0xaf, 1, 9)),
    // A partial message dropped by Abort, then a whole one on the same chunk stream.
    chunk(0, 7, { ts: 9, length: 200, type: 20, sid: 0 }, bytesOf(128, 1)),
    encodeMessage(abortMessage(7), 128),
    chunk(0, 7, { ts: 9, length: 3, type: 20, sid: 0 }, Buffer.of(2, 0, 0)),
  ]);
  const lines = checkAllSplits(bytes);
  const audioTs = 1001 + 21 + 21 + 0x1000000;
  assert.deepEqual(lines, [
    'media 9 1 1000 23 24',
    'media 8 1 1001 175 1',
    'media 8 1 1022 175 1',
    'media 8 1 1043 175 1',
    'media 9 1 1040 39 1',
    'media 9 1 1080 39 1',
    'media 8 1 5 175 -1',
    'media 9 1 6 -1 -1',
    `media 8 1 ${audioTs} 175 1`,
    `media 8 1 ${audioTs + 0x1000000} 175 1`,
    'msg 2 0 00000007',
    'msg 20 0 020000',
  ]);
});

test('RtmpChunkScanner: bad streams are ProtocolErrors with codes', () => {
  const cases: [string, Buffer, string][] = [
    [
      'fmt 1 first',
      chunk(1, 4, { ts: 0, length: 1, type: 8 }, Buffer.of(1)),
      'RTMP_CHUNK_NO_PREVIOUS_HEADER',
    ],
    [
      'header inside a message',
      Buffer.concat([
        chunk(0, 4, { ts: 0, length: 200, type: 8, sid: 1 }, bytesOf(128, 0)),
        chunk(0, 4, { ts: 0, length: 1, type: 8, sid: 1 }, Buffer.of(1)),
      ]),
      'RTMP_CHUNK_INTERLEAVED_HEADER',
    ],
    [
      'aggregate',
      chunk(0, 4, { ts: 0, length: 11, type: 22, sid: 1 }, bytesOf(11, 0)),
      'RTMP_AGGREGATE_UNSUPPORTED',
    ],
    [
      'huge command',
      chunk(0, 3, { ts: 0, length: 1 << 20, type: 20, sid: 0 }, Buffer.alloc(0)),
      'RTMP_MESSAGE_TOO_LARGE',
    ],
    [
      'chunk size 0',
      encodeMessage({ ...setChunkSizeMessage(1), payload: Buffer.alloc(4) }, 128),
      'RTMP_BAD_CHUNK_SIZE',
    ],
  ];
  for (const [name, bytes, code] of cases) {
    assert.throws(
      () => new RtmpChunkScanner().push(bytes),
      (e: unknown) => e instanceof ProtocolError && e.code === code,
      name,
    );
  }
});

test('RtmpChunkScanner: mutated streams raise only ProtocolError', () => {
  const base = Buffer.concat([encodeMessage(setChunkSizeMessage(100), 128), ...sluiceMedia(100, 0xfffff0)]);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { maxLength: 8 }),
      fc.array(fc.nat(base.length), { maxLength: 4 }),
      (flips, cuts) => {
        const bytes = Buffer.from(base);
        for (const [i, v] of flips) bytes[i] = v;
        try {
          scannerView(
            bytes,
            cuts.sort((x, y) => x - y),
          );
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      },
    ),
    { numRuns: 500 },
  );
});
