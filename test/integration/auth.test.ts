import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { lalSecret } from '../../libs/auth/lal-md5.ts';
import { signedQuery, type AuthAction } from '../../libs/auth/signed-url.ts';
import { PLAY_PROTOS, logText, tryAnnounce, tryPlay } from './helpers/auth-probes.ts';
import { publishTo } from './helpers/cluster.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { TEST_CONFIG, startSluice, type SluiceProcess } from './helpers/sluice.ts';

// Publish and play authorization on a standalone node, one node per mode, real ffmpeg publishers.

const OLD = 'old-signing-secret-0123456789';
const NEW = 'new-signing-secret-0123456789';
const LAL_KEY = 'lal-key-for-tests';
const nodes: SluiceProcess[] = [];
const pubs: Child[] = [];
let media = '';

const config = (auth: object): object => ({ ...TEST_CONFIG, hls: { targetMs: 1000 }, auth });
const nowS = (): number => Math.floor(Date.now() / 1000);
const sign = (secret: string, action: AuthAction, key: string, ttlS = 60): string =>
  signedQuery(secret, action, key, nowS() + ttlS);

async function node(auth: object): Promise<SluiceProcess> {
  const n = await startSluice(config(auth));
  nodes.push(n);
  return n;
}

/** A looping ffmpeg publish of `key?query`, once the node logs it started. */
async function publishOk(n: SluiceProcess, key: string, query: string): Promise<void> {
  const since = n.logs.length;
  const pub = publish(media, `${n.rtmp}/${key}?${query}`, { loop: true });
  pubs.push(pub);
  const end = Date.now() + 8000;
  while (!n.logs.slice(since).some((l) => l.msg === 'publish started' && l.stream === key)) {
    assert.ok(pub.proc.exitCode === null, `publish of ${key} refused: ${pub.stderr()}`);
    assert.ok(Date.now() < end, `publish of ${key} not started`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function refusedPublish(n: SluiceProcess, key: string, query: string): Promise<void> {
  await assert.rejects(publishTo(n, media, query ? `${key}?${query}` : key, 5000), /refused/);
}

before(async () => {
  media = await makeTestFlv({ durationS: 4, width: 320, height: 240, fps: 25, gop: 25, videoKbps: 300 });
});

after(async () => {
  await Promise.all(pubs.map((p) => p.kill()));
  await Promise.all(nodes.map((n) => n.stop()));
});

describe('signed URLs', () => {
  let n: SluiceProcess;
  const key = 'live/signed';
  before(async () => {
    n = await node({ signed: { enabled: true, secrets: [NEW, OLD] } });
  });

  test('RTMP publish: missing, tampered, expired, wrong action refused; a rotated-out-but-listed secret accepted', async () => {
    await refusedPublish(n, key, '');
    await refusedPublish(n, key, sign(NEW, 'publish', 'live/other'));
    await refusedPublish(n, key, sign(NEW, 'play', key));
    await refusedPublish(n, key, signedQuery(NEW, 'publish', key, nowS() - 1));
    await refusedPublish(n, key, sign('not-a-configured-secret-000', 'publish', key));
    await publishOk(n, key, sign(OLD, 'publish', key));
  });

  test('every play protocol: the right signature plays, missing/wrong/expired are refused', async () => {
    for (const proto of PLAY_PROTOS) {
      assert.equal(await tryPlay(n, proto, key, sign(NEW, 'play', key)), 'ok', proto);
      const missing = await tryPlay(n, proto, key, '');
      assert.ok(missing !== 'ok', `${proto} without a signature: ${missing}`);
      if (proto !== 'rtmp' && proto !== 'rtsp') assert.equal(missing, 401, proto);
      assert.notEqual(await tryPlay(n, proto, key, sign(NEW, 'play', 'live/nope')), 'ok', proto);
      assert.notEqual(await tryPlay(n, proto, key, sign(NEW, 'publish', key)), 'ok', proto);
      const expired = await tryPlay(n, proto, key, signedQuery(NEW, 'play', key, nowS() - 5));
      assert.ok(expired === 403 || expired === 'refused', `${proto} expired: ${expired}`);
    }
  });

  test('HLS: segments need the session of an authorized playlist', async () => {
    const first = await fetch(`${n.http}/${key}.m3u8?${sign(NEW, 'play', key)}`, { redirect: 'manual' });
    assert.equal(first.status, 302);
    const loc = new URL(first.headers.get('location')!, `${n.http}/${key}.m3u8`);
    const list = await fetch(loc);
    assert.equal(list.status, 200);
    const body = await list.text();
    const seg = body.split('\n').find((l) => l && !l.startsWith('#'));
    assert.ok(seg, body);
    assert.match(seg, /\?session=hls-/);
    const segUrl = new URL(seg, loc);
    const ok = await fetch(segUrl);
    assert.equal(ok.status, 200);
    assert.ok((await ok.arrayBuffer()).byteLength > 188);
    const bare = new URL(segUrl);
    bare.search = '';
    assert.equal((await fetch(bare)).status, 403, 'a segment without the session');
    bare.search = '?session=hls-0000000000000000000000000000000000000000000000000000000000';
    assert.equal((await fetch(bare)).status, 403, 'a forged session');
  });

  test('RTSP publish (ANNOUNCE): refused without or with a wrong signature, accepted with one', async () => {
    const k = 'live/rtsp-in';
    assert.equal(await tryAnnounce(n, k, ''), 403);
    assert.equal(await tryAnnounce(n, k, sign(NEW, 'play', k)), 403);
    assert.equal(await tryAnnounce(n, k, signedQuery(NEW, 'publish', k, nowS() - 1)), 403);
    assert.equal(await tryAnnounce(n, k, sign(NEW, 'publish', k)), 200);
  });

  test('refusals are counted; no secret or signature appears in any log line', async () => {
    const metrics = await (await fetch(`${n.api}/metrics`)).text();
    const refused = metrics.split('\n').filter((l) => l.startsWith('sluice_auth_refused_total{'));
    assert.ok(
      refused.some((l) => /proto="rtmp"/.test(l) && /action="publish"/.test(l) && /mode="signed"/.test(l)),
      refused.join('\n'),
    );
    assert.ok(
      refused.some((l) => /proto="hls"/.test(l) && /action="play"/.test(l)),
      refused.join('\n'),
    );
    const logs = logText([n]);
    assert.ok(logs.includes('refused by auth'));
    for (const s of [OLD, NEW]) assert.ok(!logs.includes(s), 'a secret in the logs');
    assert.ok(!/[0-9a-f]{64}/.test(logs), 'a signature in the logs');
  });
});

describe("lal's simple auth", () => {
  let n: SluiceProcess;
  const key = 'live/test110';
  const good = `lal_secret=${lalSecret(LAL_KEY, 'test110')}`;
  before(async () => {
    n = await node({
      simpleAuth: {
        key: LAL_KEY,
        pub_rtmp_enable: true,
        sub_rtmp_enable: true,
        sub_httpflv_enable: true,
        sub_httpts_enable: true,
        pub_rtsp_enable: true,
        sub_rtsp_enable: true,
        hls_m3u8_enable: true,
      },
    });
  });

  test('publish over RTMP and RTSP, play over every protocol: md5(key + name) passes, others do not', async () => {
    await refusedPublish(n, key, '');
    await refusedPublish(n, key, `lal_secret=${lalSecret(LAL_KEY, 'other')}`);
    await publishOk(n, key, good);
    for (const proto of PLAY_PROTOS) {
      assert.equal(await tryPlay(n, proto, key, good), 'ok', proto);
      assert.notEqual(await tryPlay(n, proto, key, ''), 'ok', proto);
      assert.notEqual(
        await tryPlay(n, proto, key, `lal_secret=${lalSecret('wrong', 'test110')}`),
        'ok',
        proto,
      );
    }
    assert.equal(await tryAnnounce(n, 'live/cam', `lal_secret=${lalSecret(LAL_KEY, 'x')}`), 403);
    assert.equal(await tryAnnounce(n, 'live/cam', `lal_secret=${lalSecret(LAL_KEY, 'cam')}`), 200);
    const logs = logText([n]);
    assert.ok(!logs.includes(lalSecret(LAL_KEY, 'test110')) && !logs.includes(LAL_KEY));
  });
});

describe('HTTP callback', () => {
  let server: Server;
  let closed: SluiceProcess;
  let open: SluiceProcess;
  const asked: Record<string, unknown>[] = [];
  const key = 'live/cb';

  before(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const b = JSON.parse(raw) as Record<string, unknown>;
        asked.push(b);
        if (b.stream === 'slow') return; // no answer: the node's timeout decides
        const ok = String(b.param).includes('token=good');
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(ok ? '{"code":0}' : '{"code":1}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const cb = { onPublish: `${url}/on_publish`, onPlay: `${url}/on_play`, timeoutMs: 700, cacheMs: 0 };
    [closed, open] = await Promise.all([
      node({ callback: { ...cb, failOpen: false } }),
      node({ callback: { ...cb, failOpen: true } }),
    ]);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test('publish and play over every protocol follow the answer; SRS fields are sent', async () => {
    await refusedPublish(closed, key, 'token=bad');
    await publishOk(closed, key, 'token=good');
    const pub = asked.find((b) => b.action === 'on_publish' && String(b.param).includes('good'));
    assert.ok(pub, JSON.stringify(asked));
    assert.equal(pub.app, 'live');
    assert.equal(pub.stream, 'cb');
    assert.equal(pub.protocol, 'rtmp');
    assert.equal(pub.ip, '127.0.0.1');
    assert.equal(pub.server_id, 'test-node');
    assert.equal(typeof pub.client_id, 'string');
    for (const proto of PLAY_PROTOS) {
      assert.equal(await tryPlay(closed, proto, key, 'token=good'), 'ok', proto);
      assert.notEqual(await tryPlay(closed, proto, key, 'token=bad'), 'ok', proto);
    }
    assert.equal(await tryAnnounce(closed, 'live/cam', 'token=bad'), 403);
    assert.equal(await tryAnnounce(closed, 'live/cam', 'token=good'), 200);
  });

  test('a callback that does not answer: fail-closed refuses, fail-open allows', async () => {
    const t0 = Date.now();
    assert.equal(await tryPlay(closed, 'http-flv', 'live/slow', 'token=good'), 403);
    assert.equal(await tryPlay(closed, 'rtmp', 'live/slow', 'token=good'), 'refused');
    assert.ok(Date.now() - t0 < 5000);
    await publishOk(open, 'live/slow', 'token=good');
    assert.equal(await tryPlay(open, 'http-flv', 'live/slow', 'token=bad'), 'ok');
    assert.equal(await tryPlay(open, 'rtmp', 'live/slow', 'token=bad'), 'ok');
    // fail-open is for failures only: a refusal stays a refusal.
    assert.notEqual(await tryPlay(open, 'http-flv', 'live/cb', 'token=bad'), 'ok');
  });

  test('a viewer that leaves while the callback is pending is not started', async () => {
    const ac = new AbortController();
    const since = closed.logs.length;
    const req = fetch(`${closed.http}/live/slow.flv?token=good`, { signal: ac.signal }).catch(() => null);
    setTimeout(() => ac.abort(), 100);
    await req;
    await new Promise((r) => setTimeout(r, 1000));
    const started = closed.logs
      .slice(since)
      .filter((l) => l.msg === 'play started' && l.stream === 'live/slow');
    assert.equal(started.length, 0);
  });
});

describe('IP lists', () => {
  test('a denied client address (IPv4 rule, IPv4 client) is refused for play, publish stays open', async () => {
    const n = await node({ ip: { deny: ['127.0.0.0/8'], actions: ['play'] } });
    await publishOk(n, 'live/ip', 'x=1');
    for (const proto of PLAY_PROTOS) assert.notEqual(await tryPlay(n, proto, 'live/ip', ''), 'ok', proto);
    assert.equal(await tryPlay(n, 'http-flv', 'live/ip', ''), 403);
    const n2 = await node({ ip: { allow: ['::ffff:127.0.0.1/128'], protocols: ['flv'] } });
    await publishOk(n2, 'live/ip', 'x=1');
    assert.equal(await tryPlay(n2, 'http-flv', 'live/ip', ''), 'ok');
  });
});
