import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, servePages, type PageServer } from './helpers/browser.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { getJson, sleep, startSluice, TEST_CONFIG, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// The players people embed, in a real browser: hls.js (HLS) and mpegts.js (HTTP-FLV, HTTP-TS) in
// headless Chromium, on a page served from another origin than Sluice (so CORS is exercised,
// the HLS 302 to a session included). Each must decode 320x240 video and AAC audio and play
// through 2 s of the live stream.

const require = createRequire(import.meta.url);
const SPEC = { durationS: 20, width: 320, height: 240, fps: 25, gop: 25, videoKbps: 300 };
const KEY = 'live/x';
/** From opening the page to 2 s played, per player. */
const PLAY_WAIT_MS = 30_000;
const MAX_CONSOLE_LINES = 400;

/** What players.html reports for one player (window.sluicePlayers()). */
interface PlayerState {
  name: string;
  url: string;
  currentTime: number;
  playedS: number;
  readyState: number;
  videoWidth: number;
  videoHeight: number;
  decodedFrames: number;
  droppedFrames: number;
  audioDecodedBytes: number;
  playingMs: number | null;
  currentTimeOver2Ms: number | null;
  played2sMs: number | null;
  errors: { source: string; fatal?: boolean; type?: string; details?: string; message?: string }[];
}

interface SluiceResponse {
  path: string;
  status: number;
  allowOrigin: string | undefined;
}

let server: SluiceProcess;
let pub: Child;
let pages: PageServer;
let browser: Browser | undefined;
let page: Page;
let openedAt = 0;
const consoleLines: string[] = [];
const failedRequests: string[] = [];
const sluiceResponses: SluiceResponse[] = [];

function logLine(line: string): void {
  consoleLines.push(line.slice(0, 500));
  if (consoleLines.length > MAX_CONSOLE_LINES) consoleLines.shift();
}

before(async () => {
  // First: without a browser there is nothing to test, and the error says what to install.
  browser = await launchChromium();
  const media = await makeTestFlv(SPEC);
  server = await startSluice({ ...TEST_CONFIG, hls: { targetMs: 1000 } });
  pub = publish(media, `${server.rtmp}/${KEY}`, { loop: true });
  await waitFor(
    async () => {
      const j = await getJson<{ streams: { key: string; publisher: unknown }[] }>(
        `${server.api}/api/v1/streams`,
      );
      return j.streams.some((s) => s.key === KEY && s.publisher);
    },
    10_000,
    'the ffmpeg publisher',
  );
  pages = await servePages({
    '/players.html': {
      file: new URL('./helpers/players.html', import.meta.url).pathname,
      contentType: 'text/html; charset=utf-8',
    },
    '/hls.min.js': { file: require.resolve('hls.js/dist/hls.min.js'), contentType: 'text/javascript' },
    '/mpegts.js': { file: require.resolve('mpegts.js/dist/mpegts.js'), contentType: 'text/javascript' },
  });
  page = await browser.newPage();
  page.on('console', (m) => logLine(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logLine(`[pageerror] ${e.message}`));
  page.on('requestfailed', (r) => {
    if (failedRequests.length < 100)
      failedRequests.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (!r.url().startsWith(`${server.http}/`) || sluiceResponses.length >= 2000) return;
    const u = new URL(r.url());
    sluiceResponses.push({
      path: u.pathname + u.search,
      status: r.status(),
      allowOrigin: r.headers()['access-control-allow-origin'],
    });
  });
  openedAt = Date.now();
  const base = `${server.http}/${KEY}`;
  await page.goto(`${pages.origin}/players.html?base=${encodeURIComponent(base)}`);
});

after(async () => {
  await browser?.close();
  await pages?.close();
  await pub?.kill();
  await server?.stop();
});

async function states(): Promise<PlayerState[]> {
  return (await page.evaluate('window.sluicePlayers()')) as PlayerState[];
}

function report(s: PlayerState | undefined): string {
  return [
    `player: ${JSON.stringify(s ?? null)}`,
    `failed requests: ${JSON.stringify(failedRequests)}`,
    `Sluice responses (${sluiceResponses.length}; first 10, last 30): ` +
      JSON.stringify([...sluiceResponses.slice(0, 10), ...sluiceResponses.slice(10).slice(-30)]),
    `Sluice warnings and errors: ${JSON.stringify(server.logs.filter((l) => Number(l.level) >= 40).slice(-20))}`,
    `page console (last 60 of ${consoleLines.length}):`,
    ...consoleLines.slice(-60),
  ].join('\n');
}

/** Waits until `name` has passed currentTime 2 s and played 2 s; fails with what the page saw. */
async function played2s(t: TestContext, name: string): Promise<PlayerState> {
  let s: PlayerState | undefined;
  for (;;) {
    s = (await states()).find((p) => p.name === name);
    if (s && s.currentTimeOver2Ms !== null && s.played2sMs !== null) break;
    // A fatal error ends that player: no point waiting for it.
    if (s?.errors.some((e) => e.fatal !== false) || Date.now() > openedAt + PLAY_WAIT_MS) break;
    await sleep(200);
  }
  if (!s || s.currentTimeOver2Ms === null || s.played2sMs === null) {
    assert.fail(
      `${name} did not play 2 s (waited ${Date.now() - openedAt} ms of at most ${PLAY_WAIT_MS} since the page opened)\n${report(s)}`,
    );
  }
  t.diagnostic(
    `${name}: playing after ${s.playingMs} ms, currentTime > 2 s after ${s.currentTimeOver2Ms} ms, ` +
      `2 s played after ${s.played2sMs} ms (currentTime ${s.currentTime.toFixed(2)}, ` +
      `${s.decodedFrames} frames decoded, ${s.droppedFrames} dropped, ${s.errors.length} player errors)`,
  );
  for (const e of s.errors) t.diagnostic(`${name} reported: ${JSON.stringify(e)}`);
  assert.deepEqual(
    s.errors.filter((e) => e.fatal !== false),
    [],
    `${name}: errors other than hls.js's recoverable ones\n${report(s)}`,
  );
  assert.equal(`${s.videoWidth}x${s.videoHeight}`, '320x240', 'the video was decoded');
  assert.ok(s.decodedFrames >= 25, `${s.decodedFrames} frames decoded for 2 s of 25 fps`);
  assert.ok(s.audioDecodedBytes > 0, 'AAC audio reached the decoder');
  return s;
}

function responses(re: RegExp): SluiceResponse[] {
  return sluiceResponses.filter((r) => re.test(r.path));
}

function assertCors(what: string, rs: SluiceResponse[]): void {
  for (const r of rs) assert.equal(r.allowOrigin, '*', `${what} ${r.path} (${r.status}) without CORS header`);
}

test('hls.js plays HLS cross-origin: the 302 to a session, then its playlist and the segments', async (t) => {
  await played2s(t, 'hls.js');
  const redirects = responses(/^\/live\/x\.m3u8$/);
  assert.deepEqual(
    redirects.map((r) => r.status),
    [302],
    'one redirect: hls.js reloads the session URL it was sent to, so it opens one HLS session',
  );
  const playlists = responses(/^\/live\/x\.m3u8\?session=hls-[0-9a-f]+$/);
  assert.ok(playlists.length >= 1, 'the playlist was loaded at the session URL');
  assert.ok(
    playlists.every((r) => r.status === 200),
    JSON.stringify(playlists),
  );
  const segments = responses(/^\/live\/x\.hls\/[^/]+\.ts$/);
  assert.ok(segments.length >= 2, `${segments.length} segments loaded`);
  assert.ok(
    segments.every((r) => r.status === 200),
    JSON.stringify(segments),
  );
  assertCors('HLS', [...redirects, ...playlists, ...segments]);
});

test('mpegts.js plays HTTP-FLV cross-origin', async (t) => {
  await played2s(t, 'mpegts.js flv');
  const flv = responses(/^\/live\/x\.flv$/);
  assert.deepEqual(
    flv.map((r) => r.status),
    [200],
    'one HTTP-FLV request',
  );
  assertCors('HTTP-FLV', flv);
});

test('mpegts.js plays HTTP-TS cross-origin', async (t) => {
  await played2s(t, 'mpegts.js ts');
  const ts = responses(/^\/live\/x\.ts$/);
  assert.deepEqual(
    ts.map((r) => r.status),
    [200],
    'one HTTP-TS request',
  );
  assertCors('HTTP-TS', ts);
});

test('Sluice counts the three players as viewers of the stream', async () => {
  const j = await getJson<{ streams: { key: string; viewers: { format: string }[] }[] }>(
    `${server.api}/api/v1/streams`,
  );
  const formats = j.streams.find((s) => s.key === KEY)?.viewers.map((v) => v.format) ?? [];
  assert.deepEqual(formats.sort(), ['flv', 'hls', 'ts']);
});
