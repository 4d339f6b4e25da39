import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FlvReader, type FlvTag } from '../../../libs/flv/index.ts';
import { silentLogger } from '../../../libs/log/logger.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import type { RecordFileEnd, RecordFileInfo } from '../../../libs/record/record-file.ts';
import {
  defineOutputFormat,
  MediaKind,
  StreamHub,
  type IncomingFrame,
  type Sink,
  type StreamOptions,
} from '../../../libs/stream/index.ts';
import type { RecordConfig } from '../../../services/node/record-config.ts';
import { Recording } from '../../../services/node/recording.ts';

const streamOpts: StreamOptions = {
  gopCache: true,
  gopCacheMaxBytes: 1 << 20,
  waitPublisherMs: 5000,
  maxBufferedBytes: 1 << 30,
  stallTimeoutMs: 60_000,
  writeCoalesceMs: 0,
};

const vsh: IncomingFrame = {
  kind: MediaKind.Video,
  timestampMs: 0,
  payload: Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64]),
  isKeyFrame: false,
  isSequenceHeader: true,
};
const ash: IncomingFrame = {
  kind: MediaKind.Audio,
  timestampMs: 0,
  payload: Buffer.from([0xaf, 0, 0x12, 0x10]),
  isKeyFrame: false,
  isSequenceHeader: true,
};
/** A video frame whose body ends with `n` (low byte), padded to `size` bytes. */
const video = (ts: number, n: number, key: boolean, size = 16): IncomingFrame => {
  const payload = Buffer.alloc(size);
  payload[0] = key ? 0x17 : 0x27;
  payload[1] = 1;
  payload[size - 1] = n & 0xff;
  return { kind: MediaKind.Video, timestampMs: ts, payload, isKeyFrame: key, isSequenceHeader: false };
};
const audio = (ts: number): IncomingFrame => ({
  kind: MediaKind.Audio,
  timestampMs: ts,
  payload: Buffer.from([0xaf, 1, 0x21, 0x10]),
  isKeyFrame: false,
  isSequenceHeader: false,
});

const rawFormat = defineOutputFormat('record-test-raw', (m) => m.payload);
/** A viewer that counts what reaches it. */
class CountingSink implements Sink {
  readonly id = 'viewer';
  readonly format = rawFormat;
  readonly bufferedBytes = 0;
  writes = 0;
  start(): void {}
  write(): void {
    this.writes++;
  }
  cork(): void {}
  uncork(): void {}
  end(): void {}
}

function setup(
  over: Partial<RecordConfig> = {},
  dir = mkdtempSync(join(tmpdir(), 'sluice-rec-')),
): {
  hub: StreamHub;
  counters: Counters;
  recording: Recording;
  dir: string;
  started: RecordFileInfo[];
  stopped: RecordFileEnd[];
} {
  const counters = new Counters();
  const hub = new StreamHub(streamOpts, { log: silentLogger(), counters });
  const started: RecordFileInfo[] = [];
  const stopped: RecordFileEnd[] = [];
  const cfg: RecordConfig = {
    flv: { enabled: true, dir },
    ts: { enabled: false, dir: join(dir, 'ts'), resumeWithinMs: 0 },
    maxQueueBytes: 8 << 20,
    ...over,
  };
  const recording = new Recording(cfg, {
    log: silentLogger(),
    counters,
    started: (r) => started.push(r),
    stopped: (r) => stopped.push(r),
  });
  hub.onStreamCreated = (s) => recording.attach(s);
  return { hub, counters, recording, dir, started, stopped };
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const flvTags = (
  path: string,
): { header: { hasAudio: boolean; hasVideo: boolean } | null; tags: FlvTag[] } => {
  const r = new FlvReader();
  const tags = r.push(readFileSync(path));
  return { header: r.header, tags };
};

/** Every file under `dir`, relative. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();

test('recording: one FLV file per publish, from the first key frame, rebased, closed with its size and duration', async () => {
  const { hub, dir, started, stopped } = setup();
  const s = hub.getOrCreate('live/cam1');
  const h = s.attachPublisher('rtmp-0a1b2c3d')!;
  s.write(h, vsh);
  s.write(h, ash);
  s.write(h, audio(10_000)); // before the key frame: left out
  s.write(h, video(10_040, 1, true));
  for (let i = 1; i < 50; i++) {
    s.write(h, audio(10_040 + i * 20));
    s.write(h, video(10_040 + i * 40, i + 1, i % 25 === 0));
  }
  assert.equal(started.length, 1);
  const path = started[0]!.path;
  assert.match(relative(dir, path), /^live\/cam1\/cam1-\d{8}-\d{6}-0a1b2c3d\.flv$/);
  s.detachPublisher(h);
  await until(() => stopped.length === 1, 'record stopped');
  const end = stopped[0]!;
  assert.equal(end.reason, 'unpublished');
  assert.equal(end.bytes, statSync(path).size);
  assert.equal(end.durationMs, 49 * 40);
  assert.equal(end.droppedFrames, 0);
  const { header, tags } = flvTags(path);
  assert.deepEqual(header, { hasAudio: true, hasVideo: true });
  assert.equal(tags.length, 2 + 50 + 49, 'headers, 50 video frames, 49 audio frames');
  assert.equal(tags[2]!.timestampMs, 0);
  assert.equal(tags[2]!.body[15], 1, 'the first frame is the key frame');
  assert.equal(tags.at(-1)!.timestampMs, 49 * 40);
  hub.close();
});

test('recording: a publisher that reconnects gets a second file; the first is complete', async () => {
  const { hub, dir, started, stopped } = setup();
  const s = hub.getOrCreate('live/re');
  s.addSubscriber(new CountingSink()); // a waiting viewer keeps the stream across the reconnect
  for (const [id, t0] of [
    ['rtmp-11111111', 0],
    ['rtmp-22222222', 900_000],
  ] as const) {
    const h = s.attachPublisher(id)!;
    s.write(h, vsh);
    for (let i = 0; i < 30; i++) s.write(h, video(t0 + i * 40, i, i === 0));
    s.detachPublisher(h);
  }
  await until(() => stopped.length === 2, 'both files closed');
  assert.deepEqual(
    started.map((r) => r.sessionId),
    ['rtmp-11111111', 'rtmp-22222222'],
  );
  assert.deepEqual(filesUnder(dir).length, 2);
  for (const r of stopped) {
    const { tags } = flvTags(r.path);
    assert.equal(tags.length, 31);
    assert.equal(tags[1]!.timestampMs, 0, 'each file starts at 0');
    assert.equal(r.durationMs, 29 * 40);
  }
  hub.close();
});

test('recording: over maxQueueBytes frames are dropped to the next key frame, counted, and the file stays valid', async () => {
  const { hub, counters, recording, started, stopped } = setup({ maxQueueBytes: 65536 });
  const s = hub.getOrCreate('live/fast');
  const h = s.attachPublisher('rtmp-33333333')!;
  s.write(h, vsh);
  // Bursts of 45 frames of 4 KiB (a key frame every 10), each in one event-loop turn: the file
  // cannot take a burst that fast. Between bursts the queue drains.
  const written = new Set<number>();
  for (let burst = 0; burst < 4; burst++) {
    for (let i = burst * 45; i < (burst + 1) * 45; i++) s.write(h, video(i * 40, i, i % 10 === 0, 4096));
    await until(() => recording.queuedBytes === 0, 'the queue drained');
  }
  s.detachPublisher(h);
  await until(() => stopped.length === 1, 'file closed');
  const dropped = counters.get('record_dropped_frames', { format: 'flv' });
  assert.equal(stopped[0]!.droppedFrames, dropped);
  const { tags } = flvTags(started[0]!.path);
  for (const t of tags) if (t.type === 9 && t.body[1] === 1) written.add(t.timestampMs / 40);
  assert.equal(written.size, 180 - dropped);
  // Burst 0: frames 0-15 fit under the bound (16 x 4 KiB = 64 KiB), the rest are dropped.
  // Burst 1 (frames 45-89): the queue has drained, but 45-49 still wait for the key frame at 50.
  for (let i = 0; i < 16; i++) assert.ok(written.has(i), `frame ${i} written`);
  for (let i = 16; i < 50; i++) assert.ok(!written.has(i), `frame ${i} dropped`);
  assert.ok(written.has(50), 'resumed on the key frame at 50');
  for (const i of written) {
    if (i > 0 && !written.has(i - 1)) assert.equal(i % 10, 0, `frame ${i} after a gap is a key frame`);
  }
  hub.close();
});

test('recording: a write error is counted and logged once, ends the file, and viewers keep getting frames', async () => {
  const base = mkdtempSync(join(tmpdir(), 'sluice-rec-'));
  const blocker = join(base, 'not-a-dir');
  writeFileSync(blocker, 'x'); // the recording dir lies under a regular file: ENOTDIR
  const { hub, counters, stopped } = setup({}, join(blocker, 'flv'));
  const s = hub.getOrCreate('live/err');
  const viewer = new CountingSink();
  s.addSubscriber(viewer);
  const h = s.attachPublisher('rtmp-44444444')!;
  s.write(h, vsh);
  for (let i = 0; i < 10; i++) s.write(h, video(i * 40, i, i === 0));
  await until(() => stopped.length === 1, 'file ended by the error');
  assert.equal(stopped[0]!.reason, 'write error: ENOTDIR');
  assert.equal(counters.get('record_errors', { format: 'flv', code: 'ENOTDIR' }), 1);
  for (let i = 10; i < 20; i++) s.write(h, video(i * 40, i, false));
  assert.equal(viewer.writes, 1 + 20, 'header and every frame reached the viewer');
  assert.equal(counters.get('record_errors', { format: 'flv', code: 'ENOTDIR' }), 1, 'once per file');
  s.detachPublisher(h);
  hub.close();
});

test('recording: a path that exists (or a symlink planted there) is never overwritten or followed', async () => {
  const { hub, dir, counters, stopped } = setup();
  // The file name has a one-second clock in it; plant every name this publish could get.
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'keep');
  const { symlinkSync, mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, 'live', 'x'), { recursive: true });
  const now = Date.now();
  for (const dt of [0, 1000, 2000]) {
    const d = new Date(now + dt);
    const stamp = d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    symlinkSync(victim, join(dir, 'live', 'x', `x-${stamp}-55555555.flv`));
  }
  const s = hub.getOrCreate('live/x');
  const h = s.attachPublisher('rtmp-55555555')!;
  s.write(h, vsh);
  s.write(h, video(0, 0, true));
  await until(() => stopped.length === 1, 'file refused');
  assert.equal(stopped[0]!.reason, 'write error: EEXIST');
  assert.equal(counters.get('record_errors', { format: 'flv', code: 'EEXIST' }), 1);
  assert.equal(readFileSync(victim, 'utf8'), 'keep');
  s.detachPublisher(h);
  hub.close();
});

test('recording: shutdown closes open files (reason shutdown) and waits for them', async () => {
  const { hub, recording, started, stopped } = setup();
  const s = hub.getOrCreate('live/down');
  const h = s.attachPublisher('rtmp-66666666')!;
  s.write(h, vsh);
  for (let i = 0; i < 100; i++) s.write(h, video(i * 40, i, i % 25 === 0, 2048));
  assert.equal(recording.openFiles, 1);
  await recording.stop();
  assert.equal(recording.openFiles, 0);
  assert.equal(stopped.length, 1);
  assert.equal(stopped[0]!.reason, 'shutdown');
  assert.equal(stopped[0]!.bytes, statSync(started[0]!.path).size);
  assert.equal(flvTags(started[0]!.path).tags.length, 101);
  hub.close();
  // A stream created after the stop is not recorded.
  hub.getOrCreate('live/late').attachPublisher('p');
  assert.equal(started.length, 1);
});

test('recording: a publish that never sends a key frame leaves no file', async () => {
  const { hub, dir, started, stopped } = setup();
  const s = hub.getOrCreate('live/none');
  const h = s.attachPublisher('rtmp-77777777')!;
  s.write(h, vsh);
  s.write(h, video(0, 0, false));
  s.detachPublisher(h);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual([started.length, stopped.length], [0, 0]);
  assert.deepEqual(filesUnder(dir), []);
  hub.close();
});
