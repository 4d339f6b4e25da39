import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { OpenApiChecker } from './helpers/openapi.ts';
import { startSluice, TEST_CONFIG, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// lal's start_relay_pull / stop_relay_pull and /api/v1/relays on a node with the relay code
// (MediaNode.relayPulls / relayPushes): one standalone pulls another's stream into a key of its own.

const TOKEN = 'relay-token-0123456789';
const doc = new OpenApiChecker(new URL('../../services/node/api/openapi.json', import.meta.url));
let source: SluiceProcess;
let node: SluiceProcess;
const children: Child[] = [];

before(async () => {
  const media = await makeTestFlv({
    durationS: 4,
    width: 320,
    height: 180,
    fps: 15,
    gop: 15,
    videoKbps: 200,
  });
  [source, node] = await Promise.all([startSluice(), startSluice({ ...TEST_CONFIG, api: { token: TOKEN } })]);
  children.push(publish(media, `${source.rtmp}/live/src`, { loop: true }));
  await waitFor(
    async () => {
      const r = (await (await fetch(`${source.api}/api/v1/streams`)).json()) as {
        streams: { publisher: unknown }[];
      };
      return r.streams[0]?.publisher;
    },
    8000,
    'the source publishing',
  );
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await Promise.all([source?.stop(), node?.stop()]);
});

async function call(
  method: string,
  docPath: string,
  url: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${node.api}${url}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  doc.check(method, docPath, res.status, json);
  return json;
}

test('lal start_relay_pull feeds a local stream; the group shows the pull; stop_relay_pull ends it', async () => {
  const started = await call('POST', '/api/ctrl/start_relay_pull', '/api/ctrl/start_relay_pull', {
    url: `${source.rtmp}/live/src`,
    stream_name: 'copy',
    pull_retry_num: -1,
  });
  assert.equal(started.error_code, 0, JSON.stringify(started));
  const { session_id: id, stream_name } = started.data as { session_id: string; stream_name: string };
  assert.equal(stream_name, 'copy');
  const viewer = httpFlv(`${node.http}/live/copy.flv`);
  await waitFor(() => viewer.videoFrames().length > 5, 10_000, 'the pulled stream playing');
  const group = await waitFor(
    async () => {
      const g = await call('GET', '/api/stat/group', '/api/stat/group?stream_name=copy');
      const data = g.data as
        { pull: { session_id: string }; video_codec: string; video_width: number } | undefined;
      return data?.pull.session_id === id && data.video_width === 320 ? data : undefined;
    },
    8000,
    'the pull in the group',
  );
  assert.equal(group.video_codec, 'H264');
  const list = await call('GET', '/api/v1/relays/pulls', '/api/v1/relays/pulls');
  assert.deepEqual(
    (list.relays as { id: string; key: string; origin: string }[]).map((r) => [r.id, r.key, r.origin]),
    [[id, 'live/copy', 'api']],
  );
  // A second pull of the same key is refused with lal's start failure.
  const again = await call('POST', '/api/ctrl/start_relay_pull', '/api/ctrl/start_relay_pull', {
    url: `${source.rtmp}/live/src`,
    stream_name: 'copy',
  });
  assert.equal(again.error_code, 2001);
  const stopped = await call(
    'GET',
    '/api/ctrl/stop_relay_pull',
    '/api/ctrl/stop_relay_pull?stream_name=copy',
  );
  assert.deepEqual(stopped, { error_code: 0, desp: 'succ', data: { session_id: id } });
  await waitFor(() => viewer.closed || viewer.videoFrames().length > 0, 1000, 'viewer state');
  const gone = await call('GET', '/api/ctrl/stop_relay_pull', '/api/ctrl/stop_relay_pull?stream_name=copy');
  assert.ok(gone.error_code === 1001 || gone.error_code === 1003, JSON.stringify(gone));
  viewer.stop();
});

test('/api/v1 relay pulls and pushes: start, list, stop', async () => {
  const pull = await call('POST', '/api/v1/relays/pulls', '/api/v1/relays/pulls', {
    url: `${source.rtmp}/live/src`,
    key: 'live/v1copy',
  });
  const relay = pull.relay as { id: string; key: string };
  assert.equal(relay.key, 'live/v1copy');
  // A push needs a live stream: not yet pulled, the key is not found; once live, it pushes.
  const early = await fetch(`${node.api}/api/v1/relays/pushes`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ key: 'live/nothing-here', url: `${source.rtmp}/live/pushed` }),
  });
  doc.check('POST', '/api/v1/relays/pushes', early.status, await early.json());
  assert.equal(early.status, 404);
  const viewer = httpFlv(`${node.http}/live/v1copy.flv`);
  await waitFor(() => viewer.videoFrames().length > 5, 10_000, 'the v1 pull playing');
  const push = await call('POST', '/api/v1/relays/pushes', '/api/v1/relays/pushes', {
    key: 'live/v1copy',
    url: `${source.rtmp}/live/pushed`,
  });
  const pushed = push.relay as { id: string };
  const pushes = await call('GET', '/api/v1/relays/pushes', '/api/v1/relays/pushes');
  assert.ok((pushes.relays as { id: string }[]).some((r) => r.id === pushed.id));
  // The push reaches the source node as a publish of live/pushed.
  const back = httpFlv(`${source.http}/live/pushed.flv`);
  await waitFor(() => back.videoFrames().length > 5, 10_000, 'the pushed stream playing on the target');
  back.stop();
  await call('DELETE', '/api/v1/relays/pushes/{id}', `/api/v1/relays/pushes/${pushed.id}`);
  await call('DELETE', '/api/v1/relays/pulls/{key}', '/api/v1/relays/pulls/live/v1copy');
  viewer.stop();
});
