import assert from 'node:assert/strict';
import { get } from 'node:http';
import { after, before, test } from 'node:test';
import { signedQuery } from '../../libs/auth/signed-url.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { startSluice, TEST_CONFIG, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// HLS plays under auth: a session token is not a way around a kick or the IP deny list.

const SECRET = 'hls-kick-signing-secret-0123456789';
const KEY = 'live/hlskick';
let n: SluiceProcess;
const kids: Child[] = [];

before(async () => {
  const media = await makeTestFlv({
    durationS: 4,
    width: 320,
    height: 240,
    fps: 25,
    gop: 25,
    videoKbps: 300,
  });
  n = await startSluice({
    ...TEST_CONFIG,
    hls: { targetMs: 1000 },
    auth: {
      signed: { enabled: true, secrets: [SECRET], actions: ['play'] },
      ip: { deny: ['127.0.0.2'] },
    },
  });
  kids.push(publish(media, `${n.rtmp}/${KEY}`, { loop: true }));
  await waitFor(() => n.logs.some((l) => l.msg === 'publish started'), 8000, 'the publish');
});

after(async () => {
  await Promise.all(kids.map((k) => k.kill()));
  await n?.stop();
});

test('a kicked HLS session: its playlist and its segments are refused', async () => {
  const q = signedQuery(SECRET, 'play', KEY, Math.floor(Date.now() / 1000) + 60);
  const first = await fetch(`${n.http}/${KEY}.m3u8?${q}`, { redirect: 'manual' });
  assert.equal(first.status, 302);
  const loc = new URL(first.headers.get('location')!, `${n.http}/${KEY}.m3u8`);
  const list = await fetch(loc);
  assert.equal(list.status, 200);
  const seg = (await list.text()).split('\n').find((l) => l && !l.startsWith('#'));
  assert.ok(seg);
  const segUrl = new URL(seg, loc);
  assert.equal((await fetch(segUrl)).status, 200);
  const { sessions } = (await (await fetch(`${n.api}/api/v1/sessions`)).json()) as {
    sessions: { id: string; protocol: string }[];
  };
  const hls = sessions.find((s) => s.protocol === 'hls');
  assert.ok(hls, JSON.stringify(sessions));
  assert.equal((await fetch(`${n.api}/api/v1/sessions/${hls.id}`, { method: 'DELETE' })).status, 200);
  assert.equal((await fetch(loc)).status, 403, 'the playlist after the kick');
  assert.equal((await fetch(segUrl)).status, 403, 'a segment after the kick');
});

/** GET from another loopback address (Linux routes all of 127/8 to lo). */
const statusFrom = (local: string, url: URL): Promise<number> =>
  new Promise((resolve, reject) => {
    get(url, { localAddress: local }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });

test("a denied address cannot play HLS with an allowed client's session token", async () => {
  const q = signedQuery(SECRET, 'play', KEY, Math.floor(Date.now() / 1000) + 60);
  const plain = new URL(`${n.http}/${KEY}.m3u8?${q}`);
  assert.equal(await statusFrom('127.0.0.2', plain), 403, 'the denied address itself');
  const first = await fetch(plain, { redirect: 'manual' });
  assert.equal(first.status, 302);
  const loc = new URL(first.headers.get('location')!, plain);
  const list = await fetch(loc);
  assert.equal(list.status, 200);
  const seg = (await list.text()).split('\n').find((l) => l && !l.startsWith('#'));
  assert.ok(seg);
  const segUrl = new URL(seg, loc);
  assert.equal((await fetch(segUrl)).status, 200);
  assert.equal(await statusFrom('127.0.0.2', loc), 403, 'the playlist with a shared token');
  assert.equal(await statusFrom('127.0.0.2', segUrl), 403, 'a segment with a shared token');
});
