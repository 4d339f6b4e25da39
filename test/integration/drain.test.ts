import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { httpFlv, type FlvCollector } from './helpers/flv-client.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { sleep, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// SIGTERM on a real node: not ready at once, new plays and publishes refused, the viewers
// already playing go on until drain.timeoutMs (or until they leave), then exit 0.

let media: string;
const children: Child[] = [];
const players: FlvCollector[] = [];

before(async () => {
  media = await makeTestFlv({ durationS: 4, width: 320, height: 180, fps: 15, gop: 15, videoKbps: 200 });
});
after(async () => {
  for (const p of players) p.stop();
  await Promise.all(children.map((c) => c.kill()));
});

const status = async (url: string): Promise<number> => (await fetch(url)).status;

async function playing(server: SluiceProcess, key: string): Promise<FlvCollector> {
  const pub = publish(media, `${server.rtmp}/${key}`, { loop: true });
  children.push(pub);
  const viewer = httpFlv(`${server.http}/${key}.flv`);
  players.push(viewer);
  await waitFor(() => viewer.videoFrames().length > 0, 10_000, 'the viewer playing');
  return viewer;
}

test('readyz is 200 when listening; SIGTERM: 503 at once, old viewer keeps playing, new ones refused, exit 0 after the timeout', async () => {
  const server = await startSluice(undefined, { SLUICE_DRAIN_TIMEOUT_MS: '4000' });
  try {
    assert.equal(await status(`${server.api}/readyz`), 200);
    const viewer = await playing(server, 'live/d1');
    const exited = new Promise<number | null>((r) => server.proc.once('exit', (code) => r(code)));
    const t0 = performance.now();
    server.proc.kill('SIGTERM');
    await waitFor(async () => (await status(`${server.api}/readyz`)) === 503, 1000, 'readyz 503');
    const ready = (await (await fetch(`${server.api}/readyz`)).json()) as { status: string };
    assert.equal(ready.status, 'draining');
    assert.equal(await status(`${server.api}/healthz`), 200, 'still alive');

    const late = await fetch(`${server.http}/live/d1.flv`, { signal: AbortSignal.timeout(3000) });
    assert.equal(late.status, 503);
    assert.match(await late.text(), /shutting down/);
    const latePub = publish(media, `${server.rtmp}/live/d2`);
    children.push(latePub);
    assert.notEqual(await Promise.race([latePub.exited, sleep(3000).then(() => 'running')]), 'running');

    const frames = viewer.videoFrames().length;
    await sleep(1500);
    assert.ok(viewer.videoFrames().length > frames, 'the old viewer still receives video while draining');
    assert.equal(await exited, 0);
    const tookS = (performance.now() - t0) / 1000;
    assert.ok(tookS > 3.5 && tookS < 7, `exited ${tookS.toFixed(1)} s after SIGTERM (drain 4 s)`);
    console.log(`drain with a viewer that stays: exit 0 after ${tookS.toFixed(1)} s`);
  } finally {
    await server.stop('SIGKILL');
  }
});

test('the drain ends as soon as the last session leaves', async () => {
  const server = await startSluice(undefined, { SLUICE_DRAIN_TIMEOUT_MS: '30000' });
  try {
    const viewer = await playing(server, 'live/d3');
    const exited = new Promise<number | null>((r) => server.proc.once('exit', (code) => r(code)));
    const t0 = performance.now();
    server.proc.kill('SIGTERM');
    await sleep(1000);
    assert.equal(server.proc.exitCode, null, 'still draining while a viewer and the publisher remain');
    viewer.stop();
    for (const c of children.splice(0)) await c.kill();
    assert.equal(await exited, 0);
    const tookS = (performance.now() - t0) / 1000;
    assert.ok(tookS < 5, `exited ${tookS.toFixed(1)} s after SIGTERM`);
    console.log(`drain whose sessions leave after 1 s: exit 0 after ${tookS.toFixed(1)} s`);
  } finally {
    await server.stop('SIGKILL');
  }
});
