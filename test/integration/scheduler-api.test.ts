import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { streamsFromAllGroup } from '../../services/node/console/model.js';
import {
  nodeStream,
  publishTo,
  RtmpViewer,
  startCluster,
  startScheduler,
  type Cluster,
  type SchedulerProcess,
} from './helpers/cluster.ts';
import { makeTestFlv, publish } from './helpers/media.ts';
import { OpenApiChecker } from './helpers/openapi.ts';
import { startSluice, TEST_CONFIG, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// The cluster-wide HTTP API on the scheduler, against real processes (redis-server, nats-server,
// an origin, an edge, the scheduler, a second standalone Sluice as a pull source, ffmpeg):
// lal's stats from the scheduler's view and session events, kicks and relay pulls forwarded to
// the right node over NATS, token rules, and the scheduler's OpenAPI document.

const TOKEN = 'sched-api-token-0123';
const doc = new OpenApiChecker(new URL('../../services/scheduler/openapi.json', import.meta.url));
let cluster: Cluster;
let sched: SchedulerProcess;
let source: SluiceProcess;
let media: string;
const viewers: RtmpViewer[] = [];

type Json = Record<string, unknown>;
interface LalSess {
  session_id: string;
  protocol: string;
  node_id: string;
}
interface LalGroup {
  stream_name: string;
  app_name: string;
  video_codec: string;
  audio_codec: string;
  video_width: number;
  video_height: number;
  pub: LalSess;
  pull: LalSess;
  subs: LalSess[];
}

before(async () => {
  [media, cluster, source] = await Promise.all([
    makeTestFlv({ durationS: 4, width: 320, height: 180, fps: 25, gop: 25, videoKbps: 300 }),
    startCluster({ origins: 1, edges: 1 }),
    startSluice(TEST_CONFIG),
  ]);
  sched = await startScheduler(cluster.redis.url, cluster.nats.url, { api: { token: TOKEN } });
  await waitFor(
    async () => {
      const r = await fetch(`${sched.url}/api/v1/nodes`);
      const b = (await r.json()) as { nodes: { nodeId: string; heardMsAgo: number | null }[] };
      return ['origin-1', 'edge-1'].every((id) =>
        b.nodes.some((n) => n.nodeId === id && n.heardMsAgo !== null),
      );
    },
    10_000,
    'the scheduler to hear every node',
  );
});

after(async () => {
  for (const v of viewers) v.close();
  await sched?.stop('SIGKILL');
  await source?.stop();
  await cluster?.stop();
});

/** Calls the scheduler and, when the document describes `docPath`, checks the answer against it. */
async function call(
  method: string,
  docPath: string,
  path: string,
  o: { body?: unknown; token?: string | null; status?: number } = {},
): Promise<Json> {
  const headers: Record<string, string> = {};
  const token = o.token === undefined ? TOKEN : o.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${sched.url}${path}`, {
    method,
    headers,
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
  });
  if (o.status !== undefined) assert.equal(res.status, o.status, `${method} ${path}`);
  const body = (await res.json()) as Json;
  doc.check(method, docPath, res.status, body);
  return body;
}

const allGroups = async (): Promise<LalGroup[]> =>
  (
    (await call('GET', '/api/stat/all_group', '/api/stat/all_group', { status: 200 })).data as {
      groups: LalGroup[];
    }
  ).groups;

test('all_group and group through the scheduler: codec and size, the pub on the origin, the edge viewer', async () => {
  const key = 'live/api';
  cluster.track(await publishTo(cluster.origins[0]!, media, key));
  const viewer = await RtmpViewer.play(`${cluster.edges[0]!.rtmp}/${key}`);
  viewers.push(viewer);
  await waitFor(() => viewer.videoFrames().length > 0, 8000, 'the edge viewer playing');
  const g = await waitFor(
    async () =>
      (await allGroups()).find(
        (x) => x.stream_name === 'api' && x.video_codec !== '' && x.subs.some((s) => s.node_id === 'edge-1'),
      ),
    8000,
    'the group with its codec and the edge viewer',
  );
  assert.equal(g.app_name, 'live');
  assert.equal(g.video_codec, 'H264');
  assert.equal(g.audio_codec, 'AAC');
  assert.equal(g.video_width, 320);
  assert.equal(g.video_height, 180);
  assert.equal(g.pub.node_id, 'origin-1');
  assert.equal(g.pub.protocol, 'RTMP');
  assert.deepEqual(
    g.subs.map((s) => [s.node_id, s.protocol]),
    [['edge-1', 'RTMP']],
    "the edge's viewer only (the edge's relay pull from the origin is not a viewer)",
  );

  const one = await call('GET', '/api/stat/group', '/api/stat/group?stream_name=api', { status: 200 });
  assert.equal(one.error_code, 0);
  assert.equal((one.data as LalGroup).pub.session_id, g.pub.session_id);
  const none = await call('GET', '/api/stat/group', '/api/stat/group?stream_name=nope', { status: 200 });
  assert.equal(none.error_code, 1001);
  const info = await call('GET', '/api/stat/lal_info', '/api/stat/lal_info', { token: null, status: 200 });
  assert.equal((info.data as Json).server_id, 'scheduler-1');

  // The console on the scheduler reads all_group: the cluster's stream is a row with its viewer.
  const rows = streamsFromAllGroup({ data: { groups: await allGroups() } }) as {
    key: string;
    videoCodec: string;
    viewerTotal: number;
    source: { kind: string } | null;
  }[];
  const row = rows.find((r) => r.key === key);
  assert.ok(row, 'the console shows the stream');
  assert.equal(row.videoCodec, 'H264');
  assert.equal(row.viewerTotal, 1);
  assert.equal(row.source?.kind, 'publish');

  const sessions = await call('GET', '/api/v1/sessions', `/api/v1/sessions?key=${key}`, { status: 200 });
  // /api/v1 lists every session, the edge's relay pull from the origin included.
  assert.deepEqual(
    (sessions.sessions as { kind: string; nodeId: string }[]).map((s) => `${s.kind}@${s.nodeId}`).sort(),
    ['player@edge-1', 'publisher@origin-1', 'relay@origin-1'],
  );
});

test('kick through the scheduler ends the edge viewer; a second kick answers 1003; tokens are required', async () => {
  const key = 'live/kick';
  cluster.track(await publishTo(cluster.origins[0]!, media, key));
  const viewer = await RtmpViewer.play(`${cluster.edges[0]!.rtmp}/${key}`);
  viewers.push(viewer);
  const g = await waitFor(
    async () => (await allGroups()).find((x) => x.stream_name === 'kick' && x.subs.length === 1),
    8000,
    'the edge viewer in the group',
  );
  const body = { stream_name: 'kick', session_id: g.subs[0]!.session_id };
  const path = '/api/ctrl/kick_session';
  // Refused before anything is forwarded: no token, a wrong one.
  const missing = await call('POST', path, path, { body, token: null, status: 401 });
  assert.equal(missing.error_code, 401);
  await call('POST', path, path, { body, token: 'wrong', status: 401 });
  await call('DELETE', '/api/v1/sessions/{id}', `/api/v1/sessions/${body.session_id}`, {
    token: null,
    status: 401,
  });
  assert.equal(viewer.closed, false);

  const kicked = await call('POST', path, path, { body, status: 200 });
  assert.equal(kicked.error_code, 0);
  await waitFor(() => viewer.closed, 5000, "the edge viewer's connection closed");
  const again = await call('POST', path, path, { body, status: 200 });
  assert.equal(again.error_code, 1003);
  const missingParam = await call('POST', path, path, { body: { stream_name: 'kick' }, status: 200 });
  assert.equal(missingParam.error_code, 1002);
  await call('DELETE', '/api/v1/sessions/{id}', '/api/v1/sessions/rtmp-00000000', { status: 404 });
});

test('start_relay_pull through the scheduler: an origin pulls from another Sluice, an edge viewer plays it; stop ends it', async () => {
  cluster.track(publish(media, `${source.rtmp}/live/src`, { loop: true }));
  await waitFor(async () => (await nodeStream(source, 'live/src'))?.publisher, 8000, 'the source publishing');
  const start = '/api/ctrl/start_relay_pull';
  await call('POST', start, start, {
    body: { url: `${source.rtmp}/live/src`, stream_name: 'pulled' },
    token: null,
    status: 401,
  });
  const started = await call('POST', start, start, {
    body: { url: `${source.rtmp}/live/src`, stream_name: 'pulled', app_name: 'live', pull_retry_num: -1 },
    status: 200,
  });
  assert.equal(started.error_code, 0, JSON.stringify(started));
  assert.equal((started.data as Json).node_id, 'origin-1');
  await waitFor(
    async () => (await nodeStream(cluster.origins[0]!, 'live/pulled'))?.publisher,
    8000,
    'the origin pulling',
  );
  const viewer = await RtmpViewer.play(`${cluster.edges[0]!.rtmp}/live/pulled`);
  viewers.push(viewer);
  await waitFor(() => viewer.videoFrames().length > 0, 10_000, 'the edge viewer playing the pulled stream');
  const g = await waitFor(
    async () => (await allGroups()).find((x) => x.stream_name === 'pulled' && x.pull.session_id !== ''),
    8000,
    'the pull in the group',
  );
  assert.equal(g.pull.node_id, 'origin-1');
  assert.equal(g.pub.session_id, '');

  // Pulling a key the cluster already has is refused by its owner.
  const twice = await call('POST', start, start, {
    body: { url: `${source.rtmp}/live/src`, stream_name: 'pulled', app_name: 'live' },
    status: 200,
  });
  assert.equal(twice.error_code, 2001);

  const stop = '/api/ctrl/stop_relay_pull';
  const stopped = await call('GET', stop, `${stop}?stream_name=pulled`, { status: 200 });
  assert.equal(stopped.error_code, 0, JSON.stringify(stopped));
  await waitFor(
    async () => (await nodeStream(cluster.origins[0]!, 'live/pulled')) === undefined,
    8000,
    'the pull gone from the origin',
  );
  await waitFor(
    async () => (await allGroups()).every((x) => x.stream_name !== 'pulled'),
    8000,
    'the stream gone from the cluster',
  );
  const gone = await call('POST', stop, stop, { body: { stream_name: 'pulled' }, status: 200 });
  assert.equal(gone.error_code, 1001);
});

test("the scheduler's routing endpoints stay public and match the document; the document is served", async () => {
  await call('GET', '/api/v1/streams', '/api/v1/streams', { token: null, status: 200 });
  await call('GET', '/api/v1/streams/{key}', '/api/v1/streams/live/api', { token: null, status: 200 });
  await call('GET', '/api/v1/streams/{key}', '/api/v1/streams/live/none', { token: null, status: 404 });
  await call('GET', '/api/v1/nodes', '/api/v1/nodes', { token: null, status: 200 });
  await call('GET', '/api/v1/route/{key}', '/api/v1/route/live/api', { token: null, status: 200 });
  await call('GET', '/api/v1/ingest/{key}', '/api/v1/ingest/live/api', { token: null, status: 200 });
  await call('GET', '/healthz', '/healthz', { token: null, status: 200 });
  await call('GET', '/readyz', '/readyz', { token: null, status: 200 });
  const sessions = (await call('GET', '/api/v1/sessions', '/api/v1/sessions', { status: 200 })) as {
    sessions: { id: string }[];
  };
  await call('GET', '/api/v1/sessions/{id}', `/api/v1/sessions/${sessions.sessions[0]!.id}`, { status: 200 });
  await call('GET', '/api/v1/sessions/{id}', '/api/v1/sessions/none', { status: 404 });
  await call('POST', '/api/v1/relays/pulls', '/api/v1/relays/pulls', { body: { key: 'x' }, status: 400 });
  await call('DELETE', '/api/v1/relays/pulls/{key}', '/api/v1/relays/pulls/live/none', { status: 404 });
  const served = await call('GET', '/api/v1/openapi.json', '/api/v1/openapi.json', {
    token: null,
    status: 200,
  });
  assert.deepEqual(served, doc.doc);
  const missing = doc.operations().filter((op) => !doc.covered.has(op));
  assert.deepEqual(
    missing.filter((op) => !['GET /metrics', 'GET /play/{path}'].includes(op)),
    [],
    'every documented operation exercised',
  );
});

test('the checker fails on a session without node_id (the test can fail)', () => {
  const s = {
    session_id: 'a',
    protocol: 'RTMP',
    base_type: 'SUB',
    remote_addr: 'x',
    start_time: '',
    read_bytes_sum: 0,
    wrote_bytes_sum: 0,
    bitrate_kbits: 0,
    read_bitrate_kbits: 0,
    write_bitrate_kbits: 0,
  };
  const group = {
    stream_name: 's',
    app_name: 'live',
    audio_codec: 'AAC',
    video_codec: 'H264',
    video_width: 1,
    video_height: 1,
    pub: { ...s, node_id: 'o' },
    subs: [s],
    pull: { ...s, node_id: '' },
    in_frame_per_sec: [],
  };
  assert.throws(
    () => doc.check('GET', '/api/stat/group', 200, { error_code: 0, desp: 'succ', data: group }),
    /does not match/,
  );
});
