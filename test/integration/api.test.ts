import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, test } from 'node:test';
import { RtmpViewer } from './helpers/cluster.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { startSluice, TEST_CONFIG, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// The HTTP API of a standalone node against real sessions: lal's stat and ctrl endpoints, /api/v1,
// kicks of every protocol and the token rules.

const OLD = 'old-token-0123456789';
const NEW = 'new-token-9876543210';
let server: SluiceProcess;
let media: string;
const children: Child[] = [];

type Lal = { error_code: number; desp: string; data?: Record<string, unknown> };
type LalSession = Record<string, unknown> & { session_id: string; protocol: string; base_type: string };
type LalGroup = Record<string, unknown> & { pub: LalSession; subs: LalSession[] };

before(async () => {
  media = await makeTestFlv({ durationS: 4, width: 320, height: 180, fps: 15, gop: 15, videoKbps: 300 });
  server = await startSluice({ ...TEST_CONFIG, api: { token: [OLD, NEW] } });
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await server?.stop();
});

const call = async (
  path: string,
  init: RequestInit & { token?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> => {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('Authorization', `Bearer ${init.token}`);
  const res = await fetch(`${server.api}${path}`, { ...init, headers });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: res.headers,
  };
};
const lal = async (path: string, init: RequestInit & { token?: string } = {}): Promise<Lal> =>
  (await call(path, init)).body as Lal;
const kickBody = (id: string): RequestInit => ({
  method: 'POST',
  body: JSON.stringify({ stream_name: 'api', session_id: id }),
});

test('lal stat shows real codec, size and bitrates; kicks end RTMP, HTTP-FLV and HLS viewers', async () => {
  const pub = publish(media, `${server.rtmp}/live/api`, { loop: true });
  children.push(pub);
  const group = async (): Promise<LalGroup | undefined> => {
    const r = await lal('/api/stat/group?stream_name=api');
    return r.error_code === 0 ? (r.data as LalGroup) : undefined;
  };
  await waitFor(async () => (await group())?.pub.session_id, 8000, 'the publisher in the group');
  const rtmp = await RtmpViewer.play(`${server.rtmp}/live/api`);
  const flv = httpFlv(`${server.http}/live/api.flv`);
  const hls = await fetch(`${server.http}/live/api.m3u8`);
  assert.equal(hls.status, 200);
  const hlsUrl = hls.url;
  assert.match(hlsUrl, /session=hls-/);
  await waitFor(() => flv.videoFrames().length > 5 && rtmp.videoFrames().length > 5, 8000, 'viewers playing');
  // Bitrates are over a window of a few seconds: wait for a non-zero one.
  const g = await waitFor(
    async () => {
      const x = await group();
      return x && (x.pub.read_bitrate_kbits as number) > 0 && x.subs.length === 3 ? x : undefined;
    },
    8000,
    'the group with three viewers and a bitrate',
  );
  assert.equal(g.stream_name, 'api');
  assert.equal(g.app_name, 'live');
  assert.equal(g.video_codec, 'H264');
  assert.equal(g.audio_codec, 'AAC');
  assert.equal(g.video_width, 320);
  assert.equal(g.video_height, 180);
  assert.equal(g.pub.protocol, 'RTMP');
  assert.equal(g.pub.base_type, 'PUB');
  assert.match(g.pub.start_time as string, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
  assert.ok((g.pub.read_bytes_sum as number) > 10_000, `read ${String(g.pub.read_bytes_sum)}`);
  // 300 kbit/s of video plus audio; the window makes it approximate.
  const kbps = g.pub.read_bitrate_kbits as number;
  assert.ok(kbps > 80 && kbps < 2000, `publisher ${kbps} kbit/s`);
  assert.deepEqual(g.subs.map((s) => s.protocol).sort(), ['FLV', 'HLS', 'RTMP']);
  const flvSub = g.subs.find((s) => s.protocol === 'FLV')!;
  assert.ok((flvSub.wrote_bytes_sum as number) > 10_000);
  const all = await lal('/api/stat/all_group');
  assert.equal(all.error_code, 0);
  assert.equal((all.data!.groups as LalGroup[]).length, 1);

  // RTMP viewer through lal's kick_session (token required: the rotated-out one still works).
  const rtmpId = g.subs.find((s) => s.protocol === 'RTMP')!.session_id;
  assert.equal((await call('/api/ctrl/kick_session', kickBody(rtmpId))).status, 401);
  assert.equal((await call('/api/ctrl/kick_session', { ...kickBody(rtmpId), token: 'nope' })).status, 401);
  assert.deepEqual(await lal('/api/ctrl/kick_session', { ...kickBody(rtmpId), token: OLD }), {
    error_code: 0,
    desp: 'succ',
  });
  await waitFor(() => rtmp.closed, 5000, 'the RTMP viewer ended');
  // HTTP-FLV through /api/v1.
  const del = await call(`/api/v1/sessions/${flvSub.session_id}`, { method: 'DELETE', token: NEW });
  assert.equal(del.status, 200);
  await waitFor(() => flv.closed, 5000, 'the HTTP-FLV viewer ended');
  // HLS: the session ends and its URL is refused from then on.
  const hlsId = g.subs.find((s) => s.protocol === 'HLS')!.session_id;
  assert.equal((await lal('/api/ctrl/kick_session', { ...kickBody(hlsId), token: NEW })).error_code, 0);
  assert.equal((await fetch(hlsUrl)).status, 403);
  const after = await waitFor(
    async () => {
      const x = await group();
      return x && x.subs.length === 0 ? x : undefined;
    },
    5000,
    'no viewers left',
  );
  assert.equal(after.pub.session_id, g.pub.session_id);
  assert.equal((await lal('/api/ctrl/kick_session', { ...kickBody(rtmpId), token: NEW })).error_code, 1003);
});

test('lal errors: param missing, group not found, relay pulls unavailable, unknown path', async () => {
  assert.equal((await lal('/api/stat/group')).error_code, 1002);
  assert.equal((await lal('/api/stat/group?stream_name=nothing')).error_code, 1001);
  const kickNoGroup = await lal('/api/ctrl/kick_session', {
    method: 'POST',
    token: NEW,
    body: JSON.stringify({ stream_name: 'nothing', session_id: 'x' }),
  });
  assert.equal(kickNoGroup.error_code, 1001);
  assert.equal(
    (await lal('/api/ctrl/kick_session', { method: 'POST', token: NEW, body: '{}' })).error_code,
    1002,
  );
  const pull = await lal('/api/ctrl/start_relay_pull', {
    method: 'POST',
    token: NEW,
    body: JSON.stringify({ url: 'rtmp://127.0.0.1:1/live/x' }),
  });
  // Without the relay code on this node: lal's start failure.
  assert.ok(pull.error_code === 2001 || pull.error_code === 0, JSON.stringify(pull));
  const info = await lal('/api/stat/lal_info');
  assert.equal(info.error_code, 0);
  assert.equal(info.data!.server_id, 'test-node');
  const nf = await call('/api/stat/nothing');
  assert.equal(nf.status, 404);
  assert.equal(nf.body.error_code, 404);
});

test('/api/v1: 405 with Allow, 400 for bad JSON, 413 for a big body, 404 JSON errors', async () => {
  const put = await call('/api/v1/sessions', { method: 'PUT', token: NEW });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'GET');
  assert.equal((put.body.error as { code: string }).code, 'method_not_allowed');
  const bad = await call('/api/v1/relays/pulls', { method: 'POST', token: NEW, body: '{nope' });
  assert.equal(bad.status, 400);
  assert.equal((bad.body.error as { code: string }).code, 'bad_json');
  const big = await call('/api/v1/relays/pulls', {
    method: 'POST',
    token: NEW,
    body: `{"url":"${'x'.repeat(70_000)}"}`,
  });
  assert.equal(big.status, 413);
  const missing = await call('/api/v1/sessions/nope', { method: 'DELETE', token: NEW });
  assert.equal(missing.status, 404);
  assert.equal((missing.body.error as { code: string }).code, 'not_found');
  assert.equal((await call('/api/v1/streams/live/none')).status, 404);
  // Stats stay open without protectStats; health and metrics always are.
  assert.equal((await call('/api/v1/sessions')).status, 200);
  assert.equal((await fetch(`${server.api}/metrics`)).status, 200);
  const doc = await call('/api/v1/openapi.json');
  assert.equal(doc.body.openapi, '3.1.0');
});

/** A local address that is not loopback, if the machine has one. */
function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return undefined;
}

test('without a token, control answers loopback clients only; protectStats guards stats', async (t) => {
  const addr = nonLoopbackAddress();
  if (!addr) {
    t.skip('no non-loopback address on this machine');
    return;
  }
  const open = await startSluice(TEST_CONFIG, { SLUICE_API_LISTEN: `${addr}:0` });
  const guarded = await startSluice({ ...TEST_CONFIG, api: { token: NEW, protectStats: true } });
  try {
    const port = open.logs.find((l) => l.msg === 'sluice node listening')!.listen as { api: string };
    const base = `http://${addr}:${port.api.slice(port.api.lastIndexOf(':') + 1)}`;
    const kick = await fetch(`${base}/api/ctrl/kick_session`, kickBody('x'));
    assert.equal(kick.status, 403);
    assert.equal(((await kick.json()) as Lal).error_code, 403);
    assert.equal((await fetch(`${base}/api/v1/sessions/x`, { method: 'DELETE' })).status, 403);
    assert.equal((await fetch(`${base}/api/stat/all_group`)).status, 200);
    const counters = (await (await fetch(`${base}/api/v1/stats`)).json()) as {
      counters: Record<string, number>;
    };
    assert.ok(Object.keys(counters.counters).some((k) => k.startsWith('api_auth_refused')));

    assert.equal((await fetch(`${guarded.api}/api/stat/all_group`)).status, 401);
    assert.equal((await fetch(`${guarded.api}/api/v1/streams`)).status, 401);
    const ok = await fetch(`${guarded.api}/api/v1/streams`, { headers: { Authorization: `Bearer ${NEW}` } });
    assert.equal(ok.status, 200);
    assert.equal((await fetch(`${guarded.api}/healthz`)).status, 200);
  } finally {
    await Promise.all([open.stop(), guarded.stop()]);
  }
});
