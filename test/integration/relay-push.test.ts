import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { decodeWithFfmpeg } from './helpers/rtsp.ts';
import { startSluice, TEST_CONFIG, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// ffmpeg publishes live/cam to A; A pushes it to B twice: to an exact URL whose stream name and
// query are a CDN-like secret, and through a base URL (app filter) to mirror/cam. B is killed
// (-9) and started again on the same port: A's pushes come back with backoff while A's own
// viewer keeps decoding.

const SPEC = { durationS: 10, width: 320, height: 240, fps: 25, gop: 25 };
const SECRET_NAME = 'cdnkey-s3cr3t';
const TOKEN = 'tok3n-abc';

let a: SluiceProcess;
let b: SluiceProcess;
let bPort = 0;
const children: Child[] = [];

const startB = (): Promise<SluiceProcess> =>
  startSluice(TEST_CONFIG, bPort ? { SLUICE_RTMP_LISTEN: `127.0.0.1:${bPort}` } : {});

const connects = (): number => a.logs.filter((l) => l.msg === 'relay push connected').length;

async function metric(p: SluiceProcess, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${p.api}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

before(async () => {
  const media = await makeTestFlv(SPEC);
  b = await startB();
  bPort = Number(new URL(b.rtmp.replace('rtmp:', 'http:')).port);
  a = await startSluice({
    ...TEST_CONFIG,
    relay: {
      pushes: [
        { key: 'live/cam', url: `${b.rtmp}/live/${SECRET_NAME}?token=${TOKEN}` },
        { url: `${b.rtmp}/mirror`, app: 'live' },
        { url: `${b.rtmp}/never`, app: 'other' },
      ],
    },
  });
  children.push(publish(media, `${a.rtmp}/live/cam`, { loop: true }));
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await a?.stop();
  await b?.stop();
});

test('A pushes a live stream to B; a player on B decodes it', async () => {
  await waitFor(() => connects() >= 2, 15_000, 'both pushes connected');
  const [exact, mirror] = await Promise.all([
    decodeWithFfmpeg(`${b.rtmp}/live/${SECRET_NAME}`, 3),
    decodeWithFfmpeg(`${b.http}/mirror/cam.flv`, 3),
  ]);
  assert.equal(exact.errors, '');
  assert.equal(mirror.errors, '');
  assert.ok(exact.video >= 50 && mirror.video >= 50, `frames: ${exact.video}, ${mirror.video}`);
  // The app filter keeps live/cam away from `other`.
  assert.equal(await metric(a, 'sluice_relay_pushes_started_total', 'origin="config"'), 2);
  // The target's stream name and query are secrets: never in A's logs.
  const logged = JSON.stringify(a.logs);
  assert.ok(!logged.includes(SECRET_NAME) && !logged.includes(TOKEN), 'secret logged');
  assert.ok(logged.includes('/live/***'), 'the redacted target is logged');
});

test('B killed and restarted: the pushes come back with backoff; A keeps serving its viewer', async () => {
  const before = connects();
  // A's own viewer spans the outage and must decode cleanly throughout.
  const viewer = decodeWithFfmpeg(`${a.http}/live/cam.flv`, 10);
  await new Promise((r) => setTimeout(r, 1500));
  b.proc.kill('SIGKILL');
  await b.stop();
  await waitFor(
    () => a.logs.filter((l) => l.msg === 'relay push failed').length >= 2,
    10_000,
    'the pushes noticed B is gone',
  );
  await new Promise((r) => setTimeout(r, 1500)); // at least one more refused attempt
  b = await startB();
  await waitFor(() => connects() >= before + 2, 40_000, 'both pushes back');
  const again = await decodeWithFfmpeg(`${b.rtmp}/live/${SECRET_NAME}`, 3);
  assert.equal(again.errors, '');
  assert.ok(again.video >= 50, `frames after the restart: ${again.video}`);
  const failed = a.logs.filter((l) => l.msg === 'relay push failed');
  // Backoff: the waits grow (1 s, 2 s ...) while B is down.
  const waits = failed.map((l) => l.retryInMs as number);
  assert.ok(
    waits.some((w) => w >= 1500),
    `backoff grew: ${waits.join(', ')}`,
  );
  const seen = await viewer;
  assert.equal(seen.errors, '', 'A viewer decode errors');
  assert.ok(seen.video >= 200, `A viewer decoded ${seen.video} frames in 10 s`);
});
