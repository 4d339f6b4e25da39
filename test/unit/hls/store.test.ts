import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, symlink, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../../libs/log/logger.ts';
import { DiskSegmentStore } from '../../../libs/hls/store-disk.ts';
import { MemorySegmentStore } from '../../../libs/hls/store-memory.ts';
import type { SegmentStore, StoreError } from '../../../libs/hls/store.ts';

async function tempRoot(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'sluice-hls-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return root;
}

const stores: [string, (root: string) => SegmentStore][] = [
  ['memory', () => new MemorySegmentStore()],
  ['disk', (root) => new DiskSegmentStore({ root, log: silentLogger() })],
];

// The same behaviour from both stores (one suite, so neither drifts from the other).
for (const [kind, make] of stores) {
  test(`${kind} store: write, read, delete one, delete all`, async (t) => {
    const store = make(await tempRoot(t));
    const s = store.open('live', 'cam');
    const a = Buffer.alloc(188 * 3, 0x47);
    const b = Buffer.alloc(188, 0x11);
    s.writeSegment('cam-1.ts', a);
    s.writeSegment('cam-2.ts', b);
    s.writePlaylist('playlist.m3u8', '#EXTM3U\n');
    // Readable at once, even before the disk write completed.
    assert.deepEqual(await s.readSegment('cam-1.ts'), a);
    await s.flush();
    assert.deepEqual(await s.readSegment('cam-1.ts'), a);
    assert.deepEqual(await s.readSegment('cam-2.ts'), b);
    assert.equal(await s.readSegment('cam-3.ts'), null);
    assert.equal(await s.readSegment('../cam-1.ts'), null);
    assert.equal(s.segmentCount, 2);
    s.deleteSegment('cam-1.ts');
    s.deleteSegment('cam-9.ts'); // not there: not an error
    await s.flush();
    assert.equal(await s.readSegment('cam-1.ts'), null);
    assert.equal(s.segmentCount, 1);
    s.deleteAll();
    await s.flush();
    assert.equal(await s.readSegment('cam-2.ts'), null);
    assert.equal(s.segmentCount, 0);
    assert.equal(s.stats.writeErrors, 0);
    assert.equal(s.stats.deleteErrors, 0);
    assert.ok(s.stats.writes >= 2);
  });

  test(`${kind} store: streams are separate`, async (t) => {
    const store = make(await tempRoot(t));
    const x = store.open('live', 'x');
    const y = store.open('live/sub', 'x');
    x.writeSegment('x-1.ts', Buffer.from('xx'));
    y.writeSegment('x-1.ts', Buffer.from('yy'));
    await Promise.all([x.flush(), y.flush()]);
    assert.deepEqual(await x.readSegment('x-1.ts'), Buffer.from('xx'));
    x.deleteAll();
    await x.flush();
    assert.equal(await x.readSegment('x-1.ts'), null);
    assert.deepEqual(await y.readSegment('x-1.ts'), Buffer.from('yy'));
  });
}

test('disk store: lal layout <root>/<app>/<name>/, playlists replaced atomically', async (t) => {
  const root = await tempRoot(t);
  const store = new DiskSegmentStore({ root, log: silentLogger() });
  const s = store.open('live/sub', 'cam');
  s.writeSegment('cam-0.ts', Buffer.alloc(376, 1));
  for (let i = 0; i < 20; i++) s.writePlaylist('playlist.m3u8', `#EXTM3U\n#${i}\n`);
  await s.flush();
  const dir = path.join(root, 'live', 'sub', 'cam');
  assert.deepEqual((await readdir(dir)).sort(), ['cam-0.ts', 'playlist.m3u8']);
  assert.equal(await readFile(path.join(dir, 'playlist.m3u8'), 'utf8'), '#EXTM3U\n#19\n');
  // Queued playlist versions are coalesced: fewer than 20 writes of it reached the disk.
  assert.ok(s.stats.writes < 21, `${s.stats.writes} writes`);
});

test('disk store: paths stay under root; bad keys and file names are refused', async (t) => {
  const root = await tempRoot(t);
  const errors: StoreError[] = [];
  const store = new DiskSegmentStore({ root, log: silentLogger(), onError: (_k, e) => errors.push(e) });
  assert.equal(store.streamDir('live', 'cam'), path.join(root, 'live', 'cam'));
  for (const [app, name] of [
    ['..', 'x'],
    ['live', '..'],
    ['live/../..', 'x'],
    ['/etc', 'x'],
    ['live', 'a/b'],
    ['', 'x'],
    ['live', '.'],
    ['live', 'x\0'],
  ] as const) {
    assert.throws(() => store.open(app, name), RangeError, `${app}/${name}`);
  }
  const s = store.open('live', 'cam');
  s.writeSegment('../escape.ts', Buffer.from('x'));
  s.writeSegment('/tmp/escape.ts', Buffer.from('x'));
  s.writePlaylist('..', 'x');
  s.deleteSegment('../../etc');
  await s.flush();
  assert.equal(s.stats.writeErrors, 3);
  assert.deepEqual(
    errors.map((e) => e.code),
    ['EINVAL', 'EINVAL', 'EINVAL', 'EINVAL'],
  );
  assert.deepEqual(await readdir(root), [], 'nothing was written anywhere');
});

test('disk store: ENOSPC (a segment path pointing at /dev/full) is counted and reported, later writes go on', async (t) => {
  const root = await tempRoot(t);
  const errors: [string, StoreError][] = [];
  const store = new DiskSegmentStore({ root, log: silentLogger(), onError: (k, e) => errors.push([k, e]) });
  const dir = store.streamDir('live', 'cam');
  await mkdir(dir, { recursive: true });
  await symlink('/dev/full', path.join(dir, 'cam-1.ts'));
  const s = store.open('live', 'cam');
  s.writeSegment('cam-0.ts', Buffer.alloc(188, 1));
  s.writeSegment('cam-1.ts', Buffer.alloc(188 * 100, 2));
  s.writeSegment('cam-2.ts', Buffer.alloc(188, 3));
  await s.flush();
  assert.equal(s.stats.writeErrors, 1);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]![0], 'live/cam');
  assert.equal(errors[0]![1].code, 'ENOSPC');
  assert.equal(errors[0]![1].op, 'write');
  assert.equal(errors[0]![1].path, path.join(dir, 'cam-1.ts'));
  assert.deepEqual(await readFile(path.join(dir, 'cam-2.ts')), Buffer.alloc(188, 3));
  // The failed segment is not served from memory, and a link to a device is never read.
  assert.equal(await s.readSegment('cam-1.ts'), null);
});

test('disk store: a queue over its byte bound drops writes and counts them; deletes are kept', async (t) => {
  const root = await tempRoot(t);
  const errors: string[] = [];
  const store = new DiskSegmentStore({
    root,
    log: silentLogger(),
    maxQueuedBytes: 10_000,
    onError: (_k, e) => errors.push(`${e.op}:${e.code}:${path.basename(e.path)}`),
  });
  const s = store.open('live', 'cam');
  // All offered in one turn: nothing has been written yet, so the queue holds them all.
  for (let i = 0; i < 10; i++) s.writeSegment(`cam-${i}.ts`, Buffer.alloc(3000, i));
  assert.ok(s.stats.queuedBytes <= 10_000, `${s.stats.queuedBytes} queued`);
  assert.equal(s.stats.writesDropped, 7);
  assert.deepEqual(
    errors,
    [3, 4, 5, 6, 7, 8, 9].map((i) => `write:QUEUE_FULL:cam-${i}.ts`),
  );
  s.deleteSegment('cam-0.ts');
  await s.flush();
  assert.equal(s.stats.queuedBytes, 0);
  const files = (await readdir(store.streamDir('live', 'cam'))).sort();
  assert.deepEqual(files, ['cam-1.ts', 'cam-2.ts']);
  assert.equal(await s.readSegment('cam-5.ts'), null);
  // Once drained it accepts writes again.
  s.writeSegment('cam-10.ts', Buffer.alloc(3000, 10));
  await s.flush();
  assert.deepEqual(await s.readSegment('cam-10.ts'), Buffer.alloc(3000, 10));
  assert.equal(s.stats.writesDropped, 7);
});

test('disk store: operations run in order (a segment is on disk before the playlist naming it)', async (t) => {
  const root = await tempRoot(t);
  const store = new DiskSegmentStore({ root, log: silentLogger() });
  const s = store.open('live', 'cam');
  const dir = store.streamDir('live', 'cam');
  // A stale file from an earlier run is replaced, then deleted, then written again.
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'cam-0.ts'), 'old');
  s.writeSegment('cam-0.ts', Buffer.from('new'));
  s.deleteSegment('cam-0.ts');
  s.writeSegment('cam-0.ts', Buffer.from('newer'));
  s.deleteAll();
  s.writeSegment('cam-1.ts', Buffer.from('after'));
  await s.flush();
  assert.deepEqual(await readdir(dir), ['cam-1.ts']);
  assert.equal(await readFile(path.join(dir, 'cam-1.ts'), 'utf8'), 'after');
});

test('disk store: a stream opened anew waits for the old one`s deletes; idle directories are forgotten', async (t) => {
  const root = await tempRoot(t);
  const store = new DiskSegmentStore({ root, log: silentLogger() });
  const old = store.open('live', 'cam');
  for (let i = 0; i < 5; i++) old.writeSegment(`cam-${i}.ts`, Buffer.alloc(100_000, i));
  old.deleteAll();
  // The same key, made again at once (the old output expired): its first write must survive.
  const fresh = store.open('live', 'cam');
  fresh.writeSegment('cam-0.ts', Buffer.from('new'));
  fresh.writePlaylist('playlist.m3u8', '#EXTM3U\n');
  assert.equal(store.busyDirs, 1, 'one queue for the directory');
  await Promise.all([old.flush(), fresh.flush()]);
  const dir = store.streamDir('live', 'cam');
  assert.deepEqual((await readdir(dir)).sort(), ['cam-0.ts', 'playlist.m3u8']);
  assert.equal(await readFile(path.join(dir, 'cam-0.ts'), 'utf8'), 'new');
  assert.equal(store.busyDirs, 0);
  // Reading stats or flushing an idle store creates nothing.
  assert.equal(fresh.stats.queuedBytes, 0);
  await fresh.flush();
  assert.equal(store.busyDirs, 0);
});

test('memory store: heldBytes is the memory behind the segments, each backing store once', () => {
  const s = new MemorySegmentStore().open('live', 'x') as ReturnType<MemorySegmentStore['open']> & {
    heldBytes: number;
  };
  // A segment handed over in a larger buffer (SegmentBuffer.finish keeps up to a quarter unused).
  const big = Buffer.allocUnsafeSlow(50_000);
  s.writeSegment('a.ts', big.subarray(0, 40_000));
  const own = Buffer.allocUnsafeSlow(1000);
  s.writeSegment('b.ts', own);
  assert.equal(s.heldBytes, 51_000);
  // Two names over one store count it once.
  s.writeSegment('c.ts', big.subarray(40_000, 45_000));
  assert.equal(s.heldBytes, 51_000);
  s.deleteSegment('a.ts');
  assert.equal(s.heldBytes, 51_000, 'c.ts still holds the 50 000-byte store');
  s.deleteSegment('c.ts');
  assert.equal(s.heldBytes, 1000);
});
