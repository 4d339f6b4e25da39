import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './helpers/browser.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { sleep, startSluice, TEST_CONFIG, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// The web console (issue #11) in headless Chromium against a standalone Sluice with an API token:
// the page asks for the token, shows the ffmpeg publish with its codecs and size (from lal's
// /api/stat/all_group), and its mpegts.js (HTTP-FLV) and hls.js (HLS) previews play under the
// console's Content-Security-Policy.

const SPEC = { durationS: 20, width: 320, height: 240, fps: 25, gop: 25, videoKbps: 300 };
const KEY = 'live/x';
const TOKEN = 'console-test-token-5f1c';
/** From clicking a preview to 2 s played. */
const PLAY_WAIT_MS = 30_000;
const MAX_CONSOLE_LINES = 400;

let server: SluiceProcess;
let pub: Child;
let browser: Browser | undefined;
let page: Page;
const consoleLines: string[] = [];

before(async () => {
  browser = await launchChromium();
  const media = await makeTestFlv(SPEC);
  server = await startSluice({
    ...TEST_CONFIG,
    hls: { targetMs: 1000 },
    api: { token: TOKEN, protectStats: true },
  });
  pub = publish(media, `${server.rtmp}/${KEY}`, { loop: true });
  await waitFor(
    async () => {
      const r = await fetch(`${server.api}/api/stat/all_group`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      const j = (await r.json()) as { data?: { groups?: { video_width?: number }[] } };
      return (j.data?.groups ?? []).some((g) => g.video_width === SPEC.width);
    },
    10_000,
    'the ffmpeg publisher in /api/stat/all_group',
  );
  page = await browser.newPage();
  page.on('console', (m) => {
    consoleLines.push(`[${m.type()}] ${m.text()}`.slice(0, 500));
    if (consoleLines.length > MAX_CONSOLE_LINES) consoleLines.shift();
  });
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`.slice(0, 500)));
});

after(async () => {
  await browser?.close();
  await pub?.kill();
  await server?.stop();
});

function pageLog(): string {
  return `page console (last 40 of ${consoleLines.length}):\n${consoleLines.slice(-40).join('\n')}`;
}

/** A raw GET: the path goes on the wire as written (fetch would resolve `..` first). */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<number> {
  const { hostname, port } = new URL(server.api);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('static files need no token, the API does, and nothing outside the list is served', async () => {
  const page = await fetch(`${server.api}/console/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal((await fetch(`${server.api}/console/vendor/mpegts.js`)).status, 200);
  assert.equal((await fetch(`${server.api}/api/stat/all_group`)).status, 401, 'stats without the token');
  const wrong = await fetch(`${server.api}/api/stat/all_group`, {
    headers: { Authorization: 'Bearer nope' },
  });
  assert.equal(wrong.status, 401, 'stats with a wrong token');
  for (const path of [
    '/console/../api/stat/all_group',
    '/console/%2e%2e/%2e%2e/package.json',
    '/console/vendor/../../../../../../etc/passwd',
    '/console/..%2f..%2fpackage.json',
  ]) {
    assert.equal(await rawGet(path), 404, path);
    assert.equal(await rawGet(path, { Authorization: `Bearer ${TOKEN}` }), 404, `${path} with the token`);
  }
});

test('the page asks for the token, refuses a wrong one, then shows the stream', async () => {
  await page.goto(`${server.api}/`);
  assert.equal(new URL(page.url()).pathname, '/console/', '/ redirects to the console');
  await page.locator('#token').waitFor({ state: 'visible', timeout: 10_000 });
  await page.fill('#token', 'not-the-token');
  await page.click('#login button[type=submit]');
  await page.waitForFunction(
    "/refused/.test(document.getElementById('login-error').textContent)",
    undefined,
    {
      timeout: 10_000,
    },
  );
  await page.fill('#token', TOKEN);
  await page.click('#login button[type=submit]');
  const row = page.locator(`#streams tr[data-key="${KEY}"]`);
  await row.waitFor({ timeout: 10_000 });
  assert.equal(await row.locator('[data-col=video]').textContent(), `H264 ${SPEC.width}x${SPEC.height}`);
  assert.equal(await row.locator('[data-col=audio]').textContent(), 'AAC');
  assert.match(
    (await row.locator('[data-col=publisher]').textContent()) ?? '',
    /^RTMP, 127\.0\.0\.1:\d+, since /,
  );
  assert.ok(!page.url().includes(TOKEN), 'the token is never in the URL');
  assert.equal(await page.evaluate('sessionStorage.length'), 1, 'kept in sessionStorage');
  const node = page.locator('#nodes tbody tr');
  assert.equal(await node.count(), 1);
  assert.equal(await node.locator('[data-col=publishers]').textContent(), '1');
});

interface VideoState {
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
  decodedFrames: number;
  error: string;
}

/** The preview's <video> as the page sees it (a string: the tests compile without DOM types). */
async function videoState(format: string): Promise<VideoState | null> {
  const expr = `(() => {
    const box = [...document.querySelectorAll('.preview')].find(
      (b) => b.dataset.key === ${JSON.stringify(KEY)} && b.dataset.format === ${JSON.stringify(format)});
    const v = box && box.querySelector('video');
    if (!v) return null;
    const err = box.querySelector('.error');
    return {
      currentTime: v.currentTime,
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
      decodedFrames: v.getVideoPlaybackQuality().totalVideoFrames,
      error: err ? err.textContent : '',
    };
  })()`;
  return (await page.evaluate(expr)) as VideoState | null;
}

async function previewPlays(format: 'flv' | 'm3u8'): Promise<void> {
  await page.click(`#streams tr[data-key="${KEY}"] button[data-format="${format}"]`);
  const started = Date.now();
  let s: VideoState | null;
  for (;;) {
    s = await videoState(format);
    if (s && (s.error || (s.currentTime > 2 && s.decodedFrames > 0))) break;
    if (Date.now() - started > PLAY_WAIT_MS) break;
    await sleep(200);
  }
  assert.ok(s, `no ${format} preview on the page\n${pageLog()}`);
  assert.equal(s.error, '', `${format} preview failed\n${pageLog()}`);
  assert.ok(
    s.currentTime > 2,
    `${format}: currentTime ${s.currentTime} after ${PLAY_WAIT_MS} ms\n${pageLog()}`,
  );
  assert.ok(s.decodedFrames > 0, `${format}: no frames decoded`);
  assert.equal(`${s.videoWidth}x${s.videoHeight}`, `${SPEC.width}x${SPEC.height}`);
  // currentTime keeps advancing: it is live playback, not a stall on the first segment.
  const t0 = s.currentTime;
  await sleep(1500);
  const later = await videoState(format);
  assert.ok(later && later.currentTime > t0 + 0.5, `${format}: currentTime ${t0} -> ${later?.currentTime}`);
}

test('the HTTP-FLV preview (mpegts.js) plays', async () => {
  await previewPlays('flv');
});

test('the HLS preview (hls.js) plays', async () => {
  await previewPlays('m3u8');
});

test('the previews are counted as viewers by protocol, and nothing broke the CSP', async () => {
  const viewers = page.locator(`#streams tr[data-key="${KEY}"] [data-col=viewers]`);
  await waitFor(
    async () =>
      /FLV 1/.test((await viewers.textContent()) ?? '') && /HLS 1/.test((await viewers.textContent()) ?? ''),
    10_000,
    'FLV 1 and HLS 1 in the viewers column',
  );
  const violations = consoleLines.filter((l) => /Content Security Policy/i.test(l));
  assert.deepEqual(violations, [], pageLog());
});
