import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRegistry } from '../../../libs/cluster/memory-registry.ts';
import { RegistryCache } from '../../../services/scheduler/registry-cache.ts';
import { Scheduler, type RouteAnswer } from '../../../services/scheduler/scheduler.ts';
import { HEARTBEAT_MS, node, NOW, proc, register } from './fixtures.ts';

/** A registry holding origin o1 (owning live/a) and o2, edge e1 relaying live/a, edge e2 idle. */
async function setup(): Promise<{ reg: MemoryRegistry; s: Scheduler; clock: { t: number }; epoch: number }> {
  const clock = { t: NOW };
  const reg = new MemoryRegistry({ now: () => clock.t });
  const claim = await reg.claim('live/a', proc('o1'), 10_000);
  assert.ok(claim.ok);
  await reg.setMediaInfo('live/a', proc('o1'), claim.epoch, {
    videoCodec: 'avc1.64001f',
    audioCodec: 'mp4a.40.2',
    width: 1280,
    height: 720,
  });
  await register(
    reg,
    node({ id: 'o1', role: 'origin', publishers: 1, relays: 1, publishing: { 'live/a': 1 } }),
    60_000,
  );
  await register(reg, node({ id: 'o2', role: 'origin', port: 2935 }), 60_000);
  await register(reg, node({ id: 'e1', players: 3, relays: 1, relaying: { 'live/a': 3 } }), 60_000);
  await register(reg, node({ id: 'e2' }), 60_000);
  const s = new Scheduler({
    registry: new RegistryCache(reg, 0),
    routing: { maxLoadRatio: 0.9, preferRelaying: true },
    heartbeatMs: HEARTBEAT_MS,
    now: () => clock.t,
  });
  return { reg, s, clock, epoch: claim.epoch };
}

test('streams: owner with urls, media, relaying edges with viewers', async () => {
  const { s, epoch } = await setup();
  const a = await s.streams();
  assert.equal(a.status, 200);
  assert.deepEqual(a.body, {
    streams: [
      {
        key: 'live/a',
        owner: {
          nodeId: 'o1',
          epoch,
          since: NOW,
          ttlMs: 10_000,
          viewers: 1,
          urls: {
            rtmp: 'rtmp://o1.example:1935/live/a',
            flv: 'http://o1.example:8080/live/a.flv',
            'ws-flv': 'ws://o1.example:8080/live/a.flv',
            internalRtmp: 'rtmp://10.0.0.1:1935/live/a',
          },
        },
        media: { videoCodec: 'avc1.64001f', audioCodec: 'mp4a.40.2', width: 1280, height: 720 },
        edges: [{ nodeId: 'e1', viewers: 3 }],
      },
    ],
  });
});

test('stream: one key, 404 when nobody owns it', async () => {
  const { s } = await setup();
  const one = await s.stream('live/a');
  assert.equal(one.status, 200);
  assert.deepEqual(one.body, (await s.streams()).body.streams[0]);
  assert.deepEqual(await s.stream('live/zz'), {
    status: 404,
    body: { error: 'stream live/zz is not published' },
  });
});

test('nodes: sorted, with a computed healthy flag', async () => {
  const { reg, s, clock } = await setup();
  await reg.registerNode({ ...node({ id: 'e3' }), draining: true }, 60_000);
  clock.t += 1000;
  let nodes = (await s.nodes()).body.nodes;
  assert.deepEqual(
    nodes.map((n) => [n.nodeId, n.healthy]),
    [
      ['e1', true],
      ['e2', true],
      ['e3', false],
      ['o1', true],
      ['o2', true],
    ],
  );
  clock.t += 2 * HEARTBEAT_MS; // no heartbeat for > 2 periods, record not yet expired
  nodes = (await s.nodes()).body.nodes;
  assert.ok(nodes.every((n) => !n.healthy));
});

test('route: relaying edge, then hashing once it is gone; protocols; 400; 503', async () => {
  const { reg, s } = await setup();
  const r = await s.route('live/a', 'ws-flv');
  assert.deepEqual(r.body, {
    key: 'live/a',
    protocol: 'ws-flv',
    edge: { nodeId: 'e1', reason: 'relaying', loadRatio: 0.04 },
    url: 'ws://e1.example:8080/live/a.flv',
  });
  assert.equal(((await s.route('live/a', undefined)).body as RouteAnswer).protocol, 'flv');
  assert.equal(
    ((await s.route('live/a', 'hls')).body as RouteAnswer).url,
    'http://e1.example:8080/live/a.m3u8',
  );
  assert.equal(((await s.route('live/a', 'rtsp')).body as RouteAnswer).url, 'rtsp://e1.example:5544/live/a');
  assert.equal((await s.route('live/a', 'webrtc')).status, 400);

  await reg.unregisterNode(proc('e1'));
  const moved = await s.route('live/a', 'rtmp');
  assert.equal((moved.body as RouteAnswer).edge.nodeId, 'e2');
  assert.equal((moved.body as RouteAnswer).edge.reason, 'hash');
  assert.equal((moved.body as RouteAnswer).url, 'rtmp://e2.example:1935/live/a');

  await reg.unregisterNode(proc('e2'));
  assert.deepEqual(await s.route('live/a', 'flv'), {
    status: 503,
    body: { error: 'no edge available that serves flv' },
  });
});

test('route: an unpublished key is still routed (edges wait for the publisher)', async () => {
  const { s } = await setup();
  assert.equal((await s.route('live/not-yet', 'flv')).status, 200);
});

test('play: 302 to the routed URL with the query passed on', async () => {
  const { s } = await setup();
  const a = await s.play('live/a', 'flv', '?token=abc');
  assert.equal(a.status, 302);
  assert.equal(a.location, 'http://e1.example:8080/live/a.flv?token=abc');
});

test('ingest: the owner when there is one, else the least-loaded origin; 503 otherwise', async () => {
  const { reg, s, epoch } = await setup();
  assert.deepEqual((await s.ingest('live/a')).body, {
    key: 'live/a',
    origin: { nodeId: 'o1', owner: true, epoch },
    url: 'rtmp://o1.example:1935/live/a',
  });
  assert.deepEqual((await s.ingest('live/b')).body, {
    key: 'live/b',
    origin: { nodeId: 'o2', owner: false },
    url: 'rtmp://o2.example:2935/live/b',
  });
  await reg.unregisterNode(proc('o1')); // the owner died; its lease still runs
  const dead = await s.ingest('live/a');
  assert.equal(dead.status, 503);
  assert.match((dead.body as { error: string }).error, /owned by o1/);
  await reg.unregisterNode(proc('o2'));
  assert.deepEqual(await s.ingest('live/b'), { status: 503, body: { error: 'no origin available' } });
});

test('registry failures reject (the HTTP layer answers 503)', async () => {
  const { reg, s } = await setup();
  await reg.close();
  await assert.rejects(s.streams());
  await assert.rejects(s.route('live/a', 'flv'));
});
