import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RtmpViewer } from './helpers/cluster.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { OpenApiChecker } from './helpers/openapi.ts';
import { startSluice, TEST_CONFIG, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// Every endpoint of a media node's API, answered by a real node with real sessions, matches
// services/node/api/openapi.json (the document the node also serves): a renamed or dropped
// field fails here.

const TOKEN = 'conformance-token-0123';
const doc = new OpenApiChecker(new URL('../../services/node/api/openapi.json', import.meta.url));
let server: SluiceProcess;
const children: Child[] = [];
const viewers: { close(): void }[] = [];

before(async () => {
  const media = await makeTestFlv({
    durationS: 4,
    width: 320,
    height: 180,
    fps: 15,
    gop: 15,
    videoKbps: 200,
  });
  server = await startSluice({ ...TEST_CONFIG, api: { token: TOKEN } });
  children.push(publish(media, `${server.rtmp}/live/doc`, { loop: true }));
  await waitFor(
    async () => {
      const r = (await (await fetch(`${server.api}/api/v1/sessions`)).json()) as { sessions: unknown[] };
      return r.sessions.length === 1;
    },
    8000,
    'the publisher',
  );
  viewers.push(await RtmpViewer.play(`${server.rtmp}/live/doc`));
  const flv = httpFlv(`${server.http}/live/doc.flv`);
  viewers.push({ close: () => flv.stop() });
  await waitFor(() => flv.videoFrames().length > 0, 8000, 'the HTTP-FLV viewer playing');
  await fetch(`${server.http}/live/doc.m3u8`);
});

after(async () => {
  for (const v of viewers) v.close();
  await Promise.all(children.map((c) => c.kill()));
  await server?.stop();
});

/** Calls the API and checks the answer against the document under `docPath`. */
async function conforms(
  method: string,
  docPath: string,
  url: string,
  o: { body?: unknown; token?: boolean; status?: number } = {},
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = {};
  if (o.token !== false) headers.Authorization = `Bearer ${TOKEN}`;
  const res = await fetch(`${server.api}${url}`, {
    method,
    headers,
    ...(o.body === undefined ? {} : { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) }),
  });
  if (o.status !== undefined) assert.equal(res.status, o.status, `${method} ${url}`);
  const body = (await res.json()) as Record<string, unknown>;
  doc.check(method, docPath, res.status, body);
  return body;
}

test('node API answers match the OpenAPI document', async () => {
  await conforms('GET', '/healthz', '/healthz', { status: 200 });
  await conforms('GET', '/readyz', '/readyz', { status: 200 });
  await conforms('GET', '/api/v1/stats', '/api/v1/stats', { status: 200 });
  await conforms('GET', '/api/v1/streams', '/api/v1/streams', { status: 200 });
  await conforms('GET', '/api/v1/streams/{key}', '/api/v1/streams/live/doc', { status: 200 });
  await conforms('GET', '/api/v1/streams/{key}', '/api/v1/streams/live/none', { status: 404 });
  const { sessions } = (await conforms('GET', '/api/v1/sessions', '/api/v1/sessions', { status: 200 })) as {
    sessions: { id: string; protocol: string }[];
  };
  assert.deepEqual(sessions.map((s) => s.protocol).sort(), ['hls', 'http-flv', 'rtmp', 'rtmp']);
  const flvId = sessions.find((s) => s.protocol === 'http-flv')!.id;
  await conforms('GET', '/api/v1/sessions/{id}', `/api/v1/sessions/${flvId}`, { status: 200 });
  await conforms('GET', '/api/v1/sessions/{id}', '/api/v1/sessions/none', { status: 404 });
  await conforms('DELETE', '/api/v1/sessions/{id}', `/api/v1/sessions/${flvId}`, { status: 200 });
  await conforms('DELETE', '/api/v1/sessions/{id}', '/api/v1/sessions/none', { status: 404 });
  await conforms('DELETE', '/api/v1/sessions/{id}', '/api/v1/sessions/none', { status: 401, token: false });
  // Relay controls: 501 on a node without the relay code, their documented shapes once it has it.
  for (const kind of ['pulls', 'pushes']) {
    const list = await fetch(`${server.api}/api/v1/relays/${kind}`);
    doc.check('GET', `/api/v1/relays/${kind}`, list.status, await list.json());
  }
  await conforms('POST', '/api/v1/relays/pulls', '/api/v1/relays/pulls', { body: '{bad', status: 400 });
  await conforms('POST', '/api/v1/relays/pushes', '/api/v1/relays/pushes', {
    body: { key: 'x' },
    status: 400,
  });

  await conforms('GET', '/api/stat/lal_info', '/api/stat/lal_info', { status: 200 });
  const all = await conforms('GET', '/api/stat/all_group', '/api/stat/all_group', { status: 200 });
  const groups = (all.data as { groups: { subs: { session_id: string; protocol: string }[] }[] }).groups;
  assert.equal(groups.length, 1);
  await conforms('GET', '/api/stat/group', '/api/stat/group?stream_name=doc', { status: 200 });
  await conforms('GET', '/api/stat/group', '/api/stat/group?stream_name=none', { status: 200 });
  const rtmpId = groups[0]!.subs.find((s) => s.protocol === 'RTMP')!.session_id;
  const kicked = await conforms('POST', '/api/ctrl/kick_session', '/api/ctrl/kick_session', {
    body: { stream_name: 'doc', session_id: rtmpId },
    status: 200,
  });
  assert.equal(kicked.error_code, 0);
  await conforms('POST', '/api/ctrl/kick_session', '/api/ctrl/kick_session', {
    body: { stream_name: 'doc', session_id: rtmpId },
    token: false,
    status: 401,
  });
  await conforms('POST', '/api/ctrl/start_relay_pull', '/api/ctrl/start_relay_pull', {
    body: { url: 'rtmp://127.0.0.1:1/live/x', stream_name: 'pulled' },
    status: 200,
  });
  await conforms('GET', '/api/ctrl/stop_relay_pull', '/api/ctrl/stop_relay_pull?stream_name=pulled', {
    status: 200,
  });
  await conforms('POST', '/api/ctrl/stop_relay_pull', '/api/ctrl/stop_relay_pull?stream_name=pulled', {
    status: 200,
  });
  const served = await conforms('GET', '/api/v1/openapi.json', '/api/v1/openapi.json', { status: 200 });
  assert.deepEqual(served, doc.doc);
});

test('the checker fails on a renamed field (the test can fail)', () => {
  const group = {
    error_code: 0,
    desp: 'succ',
    data: {
      stream_name: 's',
      app_name: 'live',
      audio_codec: 'AAC',
      video_codec: 'H264',
      video_width: 1,
      video_height: 1,
      pub: {},
      subs: [],
      pull: {},
      in_frame_per_sec: [],
    },
  };
  assert.throws(() => doc.check('GET', '/api/stat/group', 200, group), /does not match/);
  const session = {
    id: 'a',
    kind: 'player',
    protocol: 'rtmp',
    key: 'a/b',
    remote: 'x',
    startedAt: 1,
    bytesIn: 0,
    bytesOut: 0,
    readKbps: 0,
    writeBitrate: 0,
  };
  assert.throws(() => doc.check('GET', '/api/v1/sessions/{id}', 200, { session }), /does not match/);
});

test('every documented node operation was exercised', () => {
  const missing = doc.operations().filter((op) => !doc.covered.has(op) && op !== 'GET /metrics');
  // Relay deletes need the relay code on the node (test/integration/api-relay.test.ts).
  assert.deepEqual(
    missing.filter((op) => !/relays\/(pulls|pushes)\/\{/.test(op)),
    [],
  );
});
