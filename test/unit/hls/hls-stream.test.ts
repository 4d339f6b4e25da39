import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../../../libs/log/logger.ts';
import { CleanupMode } from '../../../libs/hls/cleanup.ts';
import {
  HlsStream,
  LIVE_PLAYLIST_NAME,
  RECORD_PLAYLIST_NAME,
  type HlsStreamOptions,
} from '../../../libs/hls/hls-stream.ts';
import type { HlsSegment, SegmentStart } from '../../../libs/hls/segment.ts';
import { DiskSegmentStore } from '../../../libs/hls/store-disk.ts';
import { MemorySegmentStore } from '../../../libs/hls/store-memory.ts';
import { makeStream } from './frames.ts';

async function tempRoot(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'sluice-hls-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return root;
}

function hls(opts: Partial<HlsStreamOptions> & Pick<HlsStreamOptions, 'store' | 'cleanupMode'>) {
  const closed: HlsSegment[] = [];
  const opened: SegmentStart[] = [];
  let expired = 0;
  const h = new HlsStream({
    app: 'live',
    name: 'cam',
    mode: 'lead',
    prefix: 'cam-1-',
    targetMs: 2000,
    listSize: 3,
    cleanupAfterEndMs: 40,
    log: silentLogger(),
    onSegment: (s) => opened.push(s),
    onSegmentClosed: (s) => closed.push(s),
    onExpired: () => expired++,
    ...opts,
  });
  return { h, closed, opened, expired: () => expired };
}

/** `seconds` of 25 fps video with a key frame every second, and AAC, from `startMs`. */
function feed(h: HlsStream, seconds: number, startMs = 0): void {
  for (const f of makeStream({ durationMs: seconds * 1000, gop: 25, startMs })) h.push(f);
}

const listed = (text: string) => text.split('\n').filter((l) => l.endsWith('.ts'));

test('HlsStream, memory store: the window slides, old segments are deleted after their grace, all go after the end', async () => {
  const { h, closed, opened, expired } = hls({
    store: new MemorySegmentStore(),
    cleanupMode: CleanupMode.Never,
  });
  feed(h, 40);
  // 19 segments closed (the one from 38 s is open).
  assert.equal(closed.length, 19);
  assert.equal(opened.length, 20);
  assert.deepEqual(listed(h.livePlaylist!), ['cam-1-16.ts', 'cam-1-17.ts', 'cam-1-18.ts']);
  // Memory always deletes: a segment that left the window stays while fewer than listSize + 1
  // newer ones left it (RFC 8216 §6.2.2): 3 listed + 4 retired (12..15), never all 19.
  assert.equal(h.storedSegments, 7);
  assert.equal(await h.readSegment('cam-1-2.ts'), null, 'deleted');
  assert.deepEqual(await h.readSegment('cam-1-18.ts'), closed[18]!.bytes);
  // The oldest still held is the one whose grace has not run out.
  assert.ok((await h.readSegment('cam-1-12.ts')) !== null);
  assert.equal(await h.readSegment('cam-1-11.ts'), null);
  h.end();
  assert.ok(h.livePlaylist!.endsWith('#EXT-X-ENDLIST\n'));
  assert.equal(listed(h.livePlaylist!).at(-1), 'cam-1-19.ts');
  assert.ok((await h.readSegment('cam-1-19.ts')) !== null, 'served after the end');
  await sleep(300);
  assert.equal(expired(), 1);
  assert.equal(h.livePlaylist, null);
  assert.equal(h.storedSegments, 0);
  assert.equal(await h.readSegment('cam-1-19.ts'), null);
  h.dispose();
});

test('HlsStream: a publisher that returns before the expiry continues the playlist with a discontinuity', async () => {
  const { h, closed, expired } = hls({
    store: new MemorySegmentStore(),
    cleanupMode: CleanupMode.Never,
    cleanupAfterEndMs: 60,
  });
  feed(h, 5);
  h.end();
  assert.ok(h.livePlaylist!.includes('#EXT-X-ENDLIST'));
  h.markDiscontinuity();
  feed(h, 5, 5040);
  await sleep(120);
  assert.equal(expired(), 0, 'the end timer was cancelled');
  const text = h.livePlaylist!;
  assert.ok(!text.includes('#EXT-X-ENDLIST'));
  const lines = text.split('\n');
  assert.equal(lines[lines.indexOf('cam-1-3.ts') - 2], '#EXT-X-DISCONTINUITY');
  assert.equal(closed.find((s) => s.seq === 3)!.startMs, 5040);
  h.dispose();
});

test('HlsStream, disk mode 0: files stay, also after the end; playlists on disk match', async (t) => {
  const root = await tempRoot(t);
  const store = new DiskSegmentStore({ root, log: silentLogger() });
  const { h, expired } = hls({
    store,
    cleanupMode: CleanupMode.Never,
    record: true,
    cleanupAfterEndMs: 1000,
  });
  feed(h, 20);
  h.end();
  await h.flush();
  const dir = store.streamDir('live', 'cam');
  const files = await readdir(dir);
  assert.equal(files.filter((f) => f.endsWith('.ts')).length, 10);
  assert.equal(await readFile(path.join(dir, LIVE_PLAYLIST_NAME), 'utf8'), h.livePlaylist);
  const record = await readFile(path.join(dir, RECORD_PLAYLIST_NAME), 'utf8');
  assert.equal(record, h.recordPlaylist);
  assert.equal(listed(record).length, 10);
  assert.ok(record.includes('#EXT-X-PLAYLIST-TYPE:EVENT') && record.endsWith('#EXT-X-ENDLIST\n'));
  assert.ok(!files.some((f) => f.endsWith('.tmp')));
  await sleep(1100);
  assert.equal(expired(), 1);
  h.dispose();
  await h.flush();
  assert.equal((await readdir(dir)).length, files.length, 'mode 0 never deletes');
});

test('HlsStream, disk mode 1: everything is deleted after the end, nothing before', async (t) => {
  const root = await tempRoot(t);
  const store = new DiskSegmentStore({ root, log: silentLogger() });
  const { h, expired } = hls({ store, cleanupMode: CleanupMode.AfterEnd, cleanupAfterEndMs: 1000 });
  feed(h, 30);
  await h.flush();
  const dir = store.streamDir('live', 'cam');
  assert.equal((await readdir(dir)).filter((f) => f.endsWith('.ts')).length, 14);
  h.end();
  await h.flush();
  assert.equal((await readdir(dir)).filter((f) => f.endsWith('.ts')).length, 15);
  await sleep(1100);
  assert.equal(expired(), 1);
  await h.flush();
  await assert.rejects(readdir(dir), { code: 'ENOENT' });
  h.dispose();
});

test('HlsStream, disk mode 2: segments leaving the window are deleted after a grace; the rest after the end', async (t) => {
  const root = await tempRoot(t);
  const store = new DiskSegmentStore({ root, log: silentLogger() });
  const { h, closed } = hls({ store, cleanupMode: CleanupMode.Continuous });
  feed(h, 60);
  await h.flush();
  const dir = store.streamDir('live', 'cam');
  const onDisk = (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort((a, b) => seqOf(a) - seqOf(b));
  assert.equal(closed.length, 29);
  // Listed: 26..28; the 4 (listSize + 1) that left the window last are kept.
  assert.deepEqual(listed(h.livePlaylist!), ['cam-1-26.ts', 'cam-1-27.ts', 'cam-1-28.ts']);
  assert.deepEqual(onDisk, [
    'cam-1-22.ts',
    'cam-1-23.ts',
    'cam-1-24.ts',
    'cam-1-25.ts',
    ...listed(h.livePlaylist!),
  ]);
  assert.equal(h.storedSegments, onDisk.length);
  h.end();
  await sleep(300);
  await h.flush();
  await assert.rejects(readdir(dir), { code: 'ENOENT' });
  h.dispose();
});

test('HlsStream: deleteThreshold sets how many segments stay after leaving the window', async () => {
  for (const keep of [0, 1, 10]) {
    const { h } = hls({
      store: new MemorySegmentStore(),
      cleanupMode: CleanupMode.Never,
      deleteThreshold: keep,
    });
    feed(h, 40);
    assert.equal(h.storedSegments, 3 + keep, `deleteThreshold ${keep}`);
    // Listed: 16..18; kept: the `keep` before 16.
    assert.ok((await h.readSegment(`cam-1-${16 - keep}.ts`)) !== null);
    assert.equal(await h.readSegment(`cam-1-${15 - keep}.ts`), null);
    h.dispose();
    assert.equal(h.storedSegments, 0, 'dispose drops a memory stream');
  }
});

test('HlsStream: a record playlist needs a disk store that keeps its segments', () => {
  assert.throws(
    () => hls({ store: new MemorySegmentStore(), cleanupMode: CleanupMode.Never, record: true }),
    RangeError,
  );
  assert.throws(
    () =>
      hls({
        store: new DiskSegmentStore({ root: tmpdir(), log: silentLogger() }),
        cleanupMode: CleanupMode.Continuous,
        record: true,
      }),
    RangeError,
  );
});

test('HlsStream: write errors are counted in its stats', async (t) => {
  const root = await tempRoot(t);
  // The stream's directory cannot be created: a regular file is in its way.
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path.join(root, 'live'), 'not a directory');
  const errors: string[] = [];
  const store = new DiskSegmentStore({
    root,
    log: silentLogger(),
    onError: (_k, e) => errors.push(`${e.op}:${e.code}`),
  });
  const { h, closed } = hls({ store, cleanupMode: CleanupMode.Never });
  feed(h, 7);
  await h.flush();
  assert.equal(closed.length, 3);
  // 3 segments + 3 playlists, none written.
  assert.equal(h.stats.writeErrors, 6);
  assert.equal(h.stats.segments, 3);
  assert.ok(errors.length === 6 && errors.every((e) => e === 'mkdir:ENOTDIR'), errors.join());
  h.dispose();
});

function seqOf(name: string): number {
  return Number(/-(\d+)\.ts$/.exec(name)![1]);
}
