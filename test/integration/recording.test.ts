import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { parseExposition, valueOf } from './helpers/exposition.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { firstTimestampRegression, makeTestFlv, probe, publish, type Child } from './helpers/media.ts';
import {
  getJson,
  sleep,
  startRole,
  startSluice,
  TEST_CONFIG,
  waitFor,
  type SluiceProcess,
} from './helpers/sluice.ts';

// Recording with real processes: ffmpeg publishes H.264 + AAC over RTMP to a standalone node
// that records to FLV and MPEG-TS; ffmpeg and ffprobe read the files (while written and after).

const run = promisify(execFile);
const MEDIA_S = 4;
/** The test media has a key frame every second: a recording may start up to one GOP late. */
const GOP_S = 1;

let media: string;
let recDir: string;
let server: SluiceProcess;
const children: Child[] = [];
const servers: SluiceProcess[] = [];

before(async () => {
  media = await makeTestFlv({
    durationS: MEDIA_S,
    width: 320,
    height: 240,
    fps: 25,
    gop: 25,
    videoKbps: 500,
  });
  recDir = mkdtempSync(join(tmpdir(), 'sluice-rec-it-'));
  server = await startSluice({
    ...TEST_CONFIG,
    record: {
      flv: { enabled: true, dir: join(recDir, 'flv') },
      ts: { enabled: true, dir: join(recDir, 'ts'), resumeWithinMs: 3000 },
    },
  });
  servers.push(server);
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await Promise.all(servers.map((s) => s.stop()));
});

type Log = Record<string, unknown>;
const recordLogs = (s: SluiceProcess, msg: string, format: string, key: string): Log[] =>
  s.logs.filter((l) => l.msg === msg && l.format === format && l.stream === key);

/** Whatever ffmpeg reports at -v error while decoding every frame of `file` ('' when clean). */
async function decodeErrors(file: string): Promise<string> {
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], {
    timeout: 60_000,
    maxBuffer: 16 << 20,
  });
  return stderr;
}

async function durationS(file: string): Promise<number> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file],
    { timeout: 30_000 },
  );
  return Number(stdout.trim());
}

const filesUnder = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name))
        .sort()
    : [];

test('a publish records to FLV and TS that play while written; a reconnect gives a second FLV and continues the TS', async () => {
  const key = 'live/cam';
  const first = publish(media, `${server.rtmp}/${key}`);
  children.push(first);
  const started = await waitFor(
    () => recordLogs(server, 'recording started', 'flv', key)[0],
    8000,
    'FLV started',
  );
  const flv1 = started.path as string;
  assert.match(relative(join(recDir, 'flv'), flv1), /^live\/cam\/cam-\d{8}-\d{6}-[0-9a-f]{8}\.flv$/);
  const ts = (await waitFor(() => recordLogs(server, 'recording started', 'ts', key)[0], 8000, 'TS started'))
    .path as string;

  // Half-way through: both files are already playable.
  await sleep(2000);
  for (const f of [flv1, ts]) {
    const d = await durationS(f);
    assert.ok(d > 0.5 && d < MEDIA_S, `${f} half-written: ffprobe reads ${d} s`);
  }

  assert.equal(await first.exited, 0, first.stderr());
  // The publisher reconnects at once (within record.ts.resumeWithinMs).
  const second = publish(media, `${server.rtmp}/${key}`);
  children.push(second);
  assert.equal(await second.exited, 0, second.stderr());
  await waitFor(
    () => recordLogs(server, 'recording stopped', 'flv', key).length === 2,
    8000,
    'both FLV closed',
  );
  // The TS file ends 3 s (resumeWithinMs) after the last publisher left.
  const tsEnd = await waitFor(() => recordLogs(server, 'recording stopped', 'ts', key)[0], 8000, 'TS closed');

  const flvFiles = filesUnder(join(recDir, 'flv', 'live', 'cam'));
  assert.equal(flvFiles.length, 2, 'one FLV per publish');
  assert.deepEqual(filesUnder(join(recDir, 'ts', 'live', 'cam')), [ts], 'one TS across the reconnect');
  for (const end of recordLogs(server, 'recording stopped', 'flv', key)) {
    const f = end.path as string;
    assert.equal(end.reason, 'unpublished');
    assert.equal(end.bytes, statSync(f).size, 'the stop event has the final size');
    assert.equal(await decodeErrors(f), '', `${f} decodes without errors`);
    const d = await durationS(f);
    assert.ok(Math.abs(d - MEDIA_S) <= GOP_S, `${f}: ${d} s of ${MEDIA_S} s`);
    const p = await probe(f, { packets: true });
    assert.deepEqual(p.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.equal(firstTimestampRegression(p.packets), null);
    assert.ok(Number(p.packets[0]!.dts_time ?? p.packets[0]!.pts_time) < 0.1, 'timestamps start near 0');
  }

  assert.equal(tsEnd.reason, 'stream ended');
  assert.equal(tsEnd.bytes, statSync(ts).size);
  assert.equal(await decodeErrors(ts), '', 'the TS decodes without errors across the reconnect');
  const d = await durationS(ts);
  assert.ok(Math.abs(d - 2 * MEDIA_S) <= 2 * GOP_S, `TS: ${d} s of ${2 * MEDIA_S} s`);
  const p = await probe(ts, { packets: true });
  assert.deepEqual(p.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.equal(firstTimestampRegression(p.packets), null, 'TS timestamps never go back');
  const video = p.streams.find((s) => s.codec_type === 'video')!;
  const keys = p.packets.filter((x) => x.stream_index === video.index && x.flags.startsWith('K')).length;
  assert.ok(keys >= 2 * MEDIA_S - 2, `key frames of both publishers in the TS (${keys})`);
});

test('stream names with spaces, unicode or ../ are refused at publish: no file, no directory, the node serves on', async () => {
  const before = filesUnder(recDir);
  const names = ['a%20b', 'caf%C3%A9', 'café', '..%2F..%2Fevil', '%2E%2E'];
  for (const name of names) {
    const p = publish(media, `${server.rtmp}/weird/${name}`);
    children.push(p);
    assert.notEqual(await p.exited, 0, `publish of ${name} refused`);
    assert.match(p.stderr(), /invalid stream name/);
  }
  // Raw names, as an RTMP client may send them (not URL-encoded).
  const raw = publishRaw('weird', '../../x y');
  children.push(raw);
  assert.notEqual(await raw.exited, 0);
  assert.deepEqual(filesUnder(recDir), before, 'nothing new was written');
  assert.equal(existsSync(join(recDir, 'flv', 'weird')), false);
  assert.equal(existsSync(join(recDir, 'evil')), false);
  // Each refusal is logged when its session closes, which may be just after ffmpeg has exited.
  await waitFor(
    () => server.logs.filter((l) => l.code === 'RTMP_BAD_STREAM_NAME').length === names.length + 1,
    3000,
    'every refusal logged as RTMP_BAD_STREAM_NAME',
  );
  const health = await fetch(`${server.api}/healthz`);
  assert.equal(health.status, 200);
});

/** ffmpeg publishing with an arbitrary app and stream name (-rtmp_app / -rtmp_playpath). */
function publishRaw(app: string, name: string): Child {
  const proc = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-re', '-i', media, '-t', '1', '-c', 'copy', '-f', 'flv'],
      ...['-rtmp_app', app, '-rtmp_playpath', name, `${server.rtmp}/${app}`],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return {
    proc,
    exited,
    stderr: () => err,
    async kill() {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      return exited;
    },
  };
}

test('a full disk: the recording errors are counted and logged once per file; HTTP-FLV viewers keep receiving', async () => {
  const media30 = await makeTestFlv({
    durationS: 30,
    width: 320,
    height: 240,
    fps: 25,
    gop: 25,
    videoKbps: 300,
  });
  const full = mkdtempSync(join(tmpdir(), 'sluice-rec-full-'));
  // A 256 KiB tmpfs over the recording directory, in a mount namespace of the node alone.
  const node = await startRole(
    'standalone',
    {
      ...TEST_CONFIG,
      record: {
        flv: { enabled: true, dir: join(full, 'flv') },
        ts: { enabled: true, dir: join(full, 'ts') },
      },
    },
    {},
    ['unshare', '-rm', 'sh', '-c', 'mount -t tmpfs -o size=256k tmpfs "$0" && exec "$@"', full],
  );
  servers.push(node);
  const key = 'live/full';
  const viewer = httpFlv(`${node.http}/${key}.flv`);
  const pub = publish(media30, `${node.rtmp}/${key}`, { loop: true });
  children.push(pub);

  const metric = async (name: string, labels: Record<string, string>): Promise<number> =>
    valueOf(parseExposition(await (await fetch(`${node.api}/metrics`)).text()), name, labels);
  await waitFor(
    async () =>
      (await metric('sluice_record_errors_total', { format: 'flv', code: 'ENOSPC' })) === 1 &&
      (await metric('sluice_record_errors_total', { format: 'ts', code: 'ENOSPC' })) === 1,
    20_000,
    'ENOSPC counted for both files',
  );
  const framesAtError = viewer.videoFrames().length;
  await sleep(3000);
  const framesLater = viewer.videoFrames().length;
  assert.ok(
    framesLater - framesAtError >= 50,
    `viewer got ${framesLater - framesAtError} frames in 3 s after the error`,
  );
  assert.equal(viewer.closed, false);
  assert.equal(pub.proc.exitCode, null, 'the publisher goes on');

  const failures = node.logs.filter((l) => l.msg === 'recording write failed; file closed');
  assert.equal(failures.length, 2, 'one error line per file, not per frame');
  assert.ok(failures.every((l) => l.code === 'ENOSPC' && typeof l.path === 'string'));
  const stops = node.logs.filter((l) => l.msg === 'recording stopped');
  assert.deepEqual(stops.map((l) => l.reason).sort(), ['write error: ENOSPC', 'write error: ENOSPC']);
  const stats = await getJson<{ counters: Record<string, unknown> }>(`${node.api}/api/v1/stats`);
  assert.deepEqual(stats.counters.record_errors, [
    { labels: { code: 'ENOSPC', format: 'flv' }, value: 1 },
    { labels: { code: 'ENOSPC', format: 'ts' }, value: 1 },
  ]);
  viewer.stop();
  await pub.kill();
});

test('SIGTERM while a publisher is live: the drain ends, the FLV and TS files are closed (reason shutdown) and decode cleanly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-rec-term-'));
  const node = await startSluice({
    ...TEST_CONFIG,
    record: { flv: { enabled: true, dir: join(dir, 'flv') }, ts: { enabled: true, dir: join(dir, 'ts') } },
  });
  servers.push(node);
  const key = 'live/term';
  const pub = publish(media, `${node.rtmp}/${key}`, { loop: true });
  children.push(pub);
  await waitFor(() => recordLogs(node, 'recording started', 'ts', key)[0], 8000, 'recording');
  await sleep(2000);
  assert.equal(await node.stop('SIGTERM'), 0, 'exits 0 after the drain (1 s in tests)');
  // The last log lines may still be in the pipe when the exit is seen.
  const stops = await waitFor(
    () => {
      const s = node.logs.filter((l) => l.msg === 'recording stopped');
      return s.length === 2 ? s : null;
    },
    3000,
    'both recordings stopped',
  );
  assert.deepEqual(stops.map((l) => [l.format, l.reason]).sort(), [
    ['flv', 'shutdown'],
    ['ts', 'shutdown'],
  ]);
  for (const l of stops) {
    const f = l.path as string;
    assert.equal(l.bytes, statSync(f).size);
    assert.equal(await decodeErrors(f), '', `${f} decodes without errors`);
    assert.ok((await durationS(f)) >= 2, `${f} holds what was published`);
  }
});
