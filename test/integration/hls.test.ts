import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTestFlv, probe, publish, type Child } from './helpers/media.ts';
import { getJson, sleep, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';
import { ccBreaks, tsPackets } from './helpers/ts-client.ts';

const run = promisify(execFile);
const SPEC = { durationS: 40, width: 320, height: 240, fps: 25, gop: 25, videoKbps: 300 };
const TARGET_MS = 2000;
const GOP_MS = 1000;

let server: SluiceProcess;
let media: string;
const children: Child[] = [];
const dir = mkdtempSync(join(tmpdir(), 'sluice-hls-'));

before(async () => {
  media = await makeTestFlv(SPEC);
  server = await startSluice({
    stream: { waitPublisherMs: 3000 },
    hls: {
      targetMs: TARGET_MS,
      listSize: 4,
      sessionTimeoutMs: 3000,
      keepAfterEndMs: 5000,
      maxSessionsPerClient: 3,
    },
  });
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await server?.stop();
});

interface Playlist {
  text: string;
  mediaSequence: number;
  segments: { uri: string; durationS: number; discontinuity: boolean }[];
  ended: boolean;
}

function parsePlaylist(text: string): Playlist {
  const lines = text.trim().split('\n');
  assert.equal(lines[0], '#EXTM3U');
  const seqLine = lines.find((l) => l.startsWith('#EXT-X-MEDIA-SEQUENCE:'));
  const segments: Playlist['segments'] = [];
  let dur = -1;
  let disc = false;
  for (const l of lines) {
    if (l.startsWith('#EXTINF:')) dur = Number(l.slice(8).split(',')[0]);
    else if (l === '#EXT-X-DISCONTINUITY') disc = true;
    else if (!l.startsWith('#') && l.length > 0) {
      segments.push({ uri: l, durationS: dur, discontinuity: disc });
      disc = false;
    }
  }
  return {
    text,
    mediaSequence: Number(seqLine?.split(':')[1]),
    segments,
    ended: lines.includes('#EXT-X-ENDLIST'),
  };
}

async function fetchText(
  url: string,
): Promise<{ status: number; text: string; headers: Headers; url: string }> {
  const r = await fetch(url);
  return { status: r.status, text: await r.text(), headers: r.headers, url: r.url };
}

async function viewersOf(key: string): Promise<string[]> {
  const j = await getJson<{ streams: { key: string; viewers: { format: string }[] }[] }>(
    `${server.api}/api/v1/streams`,
  );
  return j.streams.find((s) => s.key === key)?.viewers.map((v) => v.format) ?? [];
}

test('HLS: a session per player, segments cut at key frames near the target, sliding window, clean decode, ENDLIST', async () => {
  const key = 'live/hls1';
  const pub = publish(media, `${server.rtmp}/${key}`);
  children.push(pub);

  // The first request opens a session and redirects to it; it waits for the first segment.
  const first = await fetch(`${server.http}/${key}.m3u8`, { redirect: 'manual' });
  assert.equal(first.status, 302);
  const location = first.headers.get('location')!;
  assert.match(location, /^hls1\.m3u8\?session=hls-[0-9a-f]{56}$/);
  const playlistUrl = new URL(location, `${server.http}/${key}.m3u8`).toString();
  assert.deepEqual(await viewersOf(key), [], 'the redirect alone keeps no state');

  let pl = parsePlaylist((await fetchText(playlistUrl)).text);
  assert.deepEqual(
    await viewersOf(key),
    ['hls'],
    'back with its token, the HLS player is a viewer of the stream',
  );
  const firstSeq = pl.mediaSequence;
  // Keep polling (as a player does) until the window has slid.
  await waitFor(
    async () => {
      const r = await fetchText(playlistUrl);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /application\/vnd\.apple\.mpegurl/);
      pl = parsePlaylist(r.text);
      return pl.mediaSequence >= firstSeq + 3;
    },
    25_000,
    'the media sequence advances',
  );
  assert.equal(pl.segments.length, 4, pl.text);
  const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(pl.text)![1]);
  assert.equal(target, 2);
  for (const s of pl.segments) {
    assert.ok(
      s.durationS >= (TARGET_MS - 50) / 1000 && s.durationS <= (TARGET_MS + GOP_MS + 50) / 1000,
      `segment ${s.uri}: ${s.durationS} s (target 2 s, key frames every 1 s)`,
    );
  }

  // Segments: self-contained TS with counters restarting, decodable alone, immutable and cacheable.
  const base = new URL(playlistUrl);
  const files: string[] = [];
  for (const s of pl.segments) {
    const segUrl = new URL(s.uri, base).toString();
    assert.match(segUrl, new RegExp(`/live/hls1\\.hls/[0-9a-z]+-\\d+\\.ts$`));
    const r = await fetch(segUrl);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('cache-control') ?? '', /max-age=\d+/);
    const bytes = Buffer.from(await r.arrayBuffer());
    const pkts = tsPackets(bytes);
    assert.deepEqual([pkts[0]!.pid, pkts[1]!.pid], [0, 0x1000], 'PAT and PMT first');
    const firstCc = new Map<number, number>();
    for (const p of pkts) if (!firstCc.has(p.pid)) firstCc.set(p.pid, p.cc);
    assert.ok(
      [...firstCc.values()].every((cc) => cc === 0),
      'continuity counters restart in each segment',
    );
    assert.deepEqual(ccBreaks(pkts), []);
    const f = join(dir, s.uri.replace(/\//g, '_'));
    writeFileSync(f, bytes);
    files.push(f);
    const { stderr } = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', f, '-f', 'null', '-']);
    assert.equal(stderr.trim(), '', `${s.uri} decodes alone`);
    const { streams } = await probe(f);
    assert.deepEqual(streams.map((x) => x.codec_name).sort(), ['aac', 'h264']);
  }

  // ffmpeg as an HLS player through the redirect.
  const play = await run(
    'ffmpeg',
    ['-hide_banner', '-v', 'error', '-i', `${server.http}/${key}.m3u8`, '-t', '5', '-f', 'null', '-'],
    { timeout: 40_000 },
  );
  assert.equal(play.stderr.trim(), '', 'ffmpeg plays the playlist without errors');

  // A segment that left the window long ago is gone (memory stays bounded).
  const oldest = new URL(pl.segments[0]!.uri, base).toString();
  await waitFor(async () => (await fetch(oldest)).status === 404, 30_000, 'old segment removed');

  // The publisher leaves: after the viewers' wait the playlist ends.
  await pub.kill();
  await waitFor(
    async () => {
      const r = await fetchText(playlistUrl);
      return r.status === 200 ? parsePlaylist(r.text).ended : false;
    },
    15_000,
    'EXT-X-ENDLIST',
  );
});

test('HLS: a player that stops polling is a viewer no more after the session timeout', async () => {
  const key = 'live/hls2';
  const pub = publish(media, `${server.rtmp}/${key}`, { loop: true });
  children.push(pub);
  const r = await fetchText(`${server.http}/${key}.m3u8`);
  assert.equal(r.status, 200, 'fetch follows the redirect to the session playlist');
  assert.match(r.url, /session=hls-/);
  assert.deepEqual(await viewersOf(key), ['hls']);
  await sleep(1000);
  await waitFor(async () => (await viewersOf(key)).length === 0, 8000, 'session timed out');
  const stats = await getJson<{ counters: Record<string, number> }>(`${server.api}/api/v1/stats`);
  assert.ok(JSON.stringify(stats).includes('hls_sessions_timed_out'));
  await pub.kill();
});

test('HLS: a forged or foreign session id gets a new session, never a borrowed one', async () => {
  const r = await fetch(`${server.http}/live/hls3.m3u8?session=hls-0000000000000000`, { redirect: 'manual' });
  assert.equal(r.status, 302);
  assert.doesNotMatch(r.headers.get('location')!, /hls-0000000000000000/);
});

test('HLS on disk: playlist.m3u8, a full record.m3u8 that plays, files removed after the end (cleanup mode 1)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-hls-disk-'));
  const short = await makeTestFlv({
    durationS: 6,
    width: 320,
    height: 240,
    fps: 25,
    gop: 25,
    videoKbps: 300,
  });
  const disk = await startSluice({
    stream: { waitPublisherMs: 1000 },
    hls: { targetMs: 1000, store: 'disk', dir: root, cleanupMode: 1, keepAfterEndMs: 3000 },
  });
  try {
    const key = 'live/hlsd';
    const pub = publish(short, `${disk.rtmp}/${key}`);
    children.push(pub);
    assert.equal(await pub.exited, 0, pub.stderr());
    // `<dir>/<app>/<name>.hls/`, like the segment URLs.
    const streamDir = join(root, 'live', 'hlsd.hls');
    const record = join(streamDir, 'record.m3u8');
    // The publisher left: after the viewers' wait the playlists end.
    await waitFor(
      () => existsSync(record) && readFileSync(record, 'utf8').includes('#EXT-X-ENDLIST'),
      10_000,
      'record.m3u8 ended',
    );
    const rec = readFileSync(record, 'utf8');
    assert.match(rec, /#EXT-X-PLAYLIST-TYPE:EVENT/);
    const segs = rec.split('\n').filter((l) => l.endsWith('.ts'));
    assert.ok(segs.length >= 5, `${segs.length} segments recorded of 6 s`);
    assert.ok(readFileSync(join(streamDir, 'playlist.m3u8'), 'utf8').includes('#EXT-X-ENDLIST'));
    const { stdout, stderr } = await run(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', record],
      { timeout: 30_000 },
    );
    assert.equal(stderr.trim(), '');
    assert.ok(Math.abs(Number(stdout) - 6) < 1.1, `recorded ${stdout.trim()} s of 6 s`);
    // Cleanup mode 1: keepAfterEndMs after the end, the stream's files go.
    await waitFor(
      () => !existsSync(streamDir) || readdirSync(streamDir).length === 0,
      10_000,
      'files deleted',
    );
  } finally {
    await disk.stop();
  }
});

test('HLS: redirects keep no state; a player reloading the original URL keeps its session; sessions are limited per client', async () => {
  const key = 'live/hls4';
  const pub = publish(media, `${server.rtmp}/${key}`, { loop: true });
  children.push(pub);
  // 50 playlist requests that never follow the redirect: no viewer, no session.
  const tokens = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const r = await fetch(`${server.http}/${key}.m3u8`, {
      redirect: 'manual',
      headers: { 'user-agent': `bot-${i}` },
    });
    assert.equal(r.status, 302);
    tokens.add(r.headers.get('location')!);
  }
  assert.equal(tokens.size, 50, 'each new client gets its own token');
  assert.deepEqual(await viewersOf(key), [], 'no state for redirects nobody followed');

  // A player (one address, one user agent) that goes back to the original URL on every reload.
  const ua = { 'user-agent': 'reloading-player/1.0' };
  const first = await fetch(`${server.http}/${key}.m3u8`, { headers: ua });
  assert.equal(first.status, 200);
  const again = await fetch(`${server.http}/${key}.m3u8`, { redirect: 'manual', headers: ua });
  assert.equal(
    new URL(again.headers.get('location')!, first.url).toString(),
    first.url,
    'sent back to its session',
  );
  assert.deepEqual(await viewersOf(key), ['hls'], 'one player, one session');

  // Limit per client address (3 in this config): distinct players beyond it get 429.
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${server.http}/${key}.m3u8`, { headers: { 'user-agent': `player-${i}` } });
    statuses.push(r.status);
    await r.arrayBuffer();
  }
  assert.deepEqual(statuses, [200, 200, 429]);
  await pub.kill();
});
