import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject } from '../../../libs/cluster/types.ts';
import type { RouteAnswer } from '../../../services/scheduler/scheduler.ts';
import { HEARTBEAT_MS, harness, heartbeat, node, NOW, proc, register, type Harness } from './fixtures.ts';

const all = { limit: 1000, after: null };

/** Origins o1 (owning live/a) and o2, edge e1 relaying live/a, edge e2 idle; all heard just now. */
async function setup(): Promise<Harness & { epoch: number }> {
  const h = harness();
  const claim = await h.reg.claim('live/a', proc('o1'), 10_000);
  assert.ok(claim.ok);
  await h.reg.setMediaInfo('live/a', proc('o1'), claim.epoch, {
    videoCodec: 'avc1.64001f',
    audioCodec: 'mp4a.40.2',
    width: 1280,
    height: 720,
  });
  const nodes = [
    node({ id: 'o1', role: 'origin', publishers: 1, relays: 1, publishing: { 'live/a': 1 } }),
    node({ id: 'o2', role: 'origin', port: 2935 }),
    node({ id: 'e1', players: 3, relays: 1, relaying: { 'live/a': 3 } }),
    node({ id: 'e2' }),
  ];
  for (const n of nodes) await register(h.reg, n);
  h.core.start();
  await h.settle();
  h.clock.t = 10 * HEARTBEAT_MS;
  for (const n of nodes) h.send(Subject.NodeHeartbeat, heartbeat(n, 1));
  await h.settle();
  return Object.assign(h, { epoch: claim.epoch });
}

test('streams: owner with urls, media, relaying edges with viewers', async () => {
  const h = await setup();
  const a = h.core.scheduler.streams(all);
  assert.equal(a.status, 200);
  assert.deepEqual(a.body, {
    streams: [
      {
        key: 'live/a',
        owner: {
          nodeId: 'o1',
          epoch: h.epoch,
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
    nextCursor: null,
    total: 1,
  });
  h.core.stop();
});

test('stream: from the view; a key the view lacks is looked up in Redis (and kept); 404 when nobody owns it', async () => {
  const h = await setup();
  const one = await h.core.scheduler.stream('live/a');
  assert.equal(one.status, 200);
  assert.deepEqual(one.body, h.core.scheduler.streams(all).body.streams[0]);
  // Claimed without any event reaching the scheduler:
  const b = await h.reg.claim('live/b', proc('o2'), 10_000);
  assert.ok(b.ok);
  assert.equal(h.core.view.owner('live/b'), undefined);
  assert.equal((await h.core.scheduler.stream('live/b')).status, 200);
  assert.equal(h.core.view.owner('live/b')?.nodeId, 'o2');
  assert.deepEqual(await h.core.scheduler.stream('live/zz'), {
    status: 404,
    body: { error: 'stream live/zz is not published' },
  });
  h.core.stop();
});

test('nodes: in id order, health by receive time, stream counts', async () => {
  const h = await setup();
  h.send(Subject.NodeHeartbeat, heartbeat(node({ id: 'e2' }), 1, { draining: true }));
  await h.settle();
  h.clock.t += 1000;
  let nodes = h.core.scheduler.nodes(all).body.nodes;
  assert.deepEqual(
    nodes.map((n) => [n.nodeId, n.healthy, n.streamCount, n.heardMsAgo]),
    [
      ['e1', true, 1, 1000],
      ['e2', false, 0, 1000],
      ['o1', true, 1, 1000],
      ['o2', true, 0, 1000],
    ],
  );
  h.clock.t += 2 * HEARTBEAT_MS; // no heartbeat for > 2 periods; records still in Redis
  nodes = h.core.scheduler.nodes(all).body.nodes;
  assert.ok(nodes.every((n) => !n.healthy));
  h.core.stop();
});

test('route: relaying edge, then hashing once it is gone; lal URL forms; 400; 503', async () => {
  const h = await setup();
  const s = h.core.scheduler;
  assert.deepEqual(s.route('live/a', 'ws-flv').body, {
    key: 'live/a',
    protocol: 'ws-flv',
    edge: { nodeId: 'e1', reason: 'relaying', loadRatio: 0.04 },
    url: 'ws://e1.example:8080/live/a.flv',
  });
  assert.equal((s.route('live/a', undefined).body as RouteAnswer).protocol, 'flv');
  assert.equal((s.route('live/a', 'hls').body as RouteAnswer).url, 'http://e1.example:8080/live/a.m3u8');
  assert.equal((s.route('live/a', 'ts').body as RouteAnswer).url, 'http://e1.example:8080/live/a.ts');
  assert.equal((s.route('live/a', 'rtsp').body as RouteAnswer).url, 'rtsp://e1.example:5544/live/a');
  assert.equal((s.route('live/a', 'rtmp').body as RouteAnswer).url, 'rtmp://e1.example:1935/live/a');
  assert.equal(s.route('live/a', 'webrtc').status, 400);

  h.clock.t += 3000;
  h.send(Subject.NodeHeartbeat, heartbeat(node({ id: 'e2' }), 1)); // only e2 is still heard
  await h.settle();
  h.clock.t += 1001;
  const moved = s.route('live/a', 'rtmp').body as RouteAnswer;
  assert.deepEqual(
    [moved.edge.nodeId, moved.edge.reason, moved.url],
    ['e2', 'hash', 'rtmp://e2.example:1935/live/a'],
  );
  h.clock.t += 4000;
  assert.deepEqual(s.route('live/a', 'flv'), {
    status: 503,
    body: { error: 'no edge available that serves flv' },
  });
  h.core.stop();
});

test('route and play offer only protocols the node serves', async () => {
  const h = harness();
  const rtmpOnly = node({ id: 'e1', protocols: ['rtmp', 'flv', 'ws-flv'] });
  await register(h.reg, rtmpOnly);
  h.core.start();
  await h.settle();
  const s = h.core.scheduler;
  assert.equal(s.route('live/a', 'flv').status, 200);
  assert.deepEqual(s.route('live/a', 'hls'), {
    status: 503,
    body: { error: 'no edge available that serves hls' },
  });
  assert.equal(s.play('live/a', 'ts', '').status, 503);
  assert.equal(s.play('live/a', 'flv', '?t=1').location, 'http://e1.example:8080/live/a.flv?t=1');
  h.core.stop();
});

test('route: an unpublished key is still routed (edges wait for the publisher)', async () => {
  const h = await setup();
  assert.equal(h.core.scheduler.route('live/not-yet', 'flv').status, 200);
  h.core.stop();
});

test('ingest: the owner when it is alive, else Redis decides; the least-loaded origin for a new key; 503 otherwise', async () => {
  const h = await setup();
  const s = h.core.scheduler;
  assert.deepEqual((await s.ingest('live/a')).body, {
    key: 'live/a',
    origin: { nodeId: 'o1', owner: true, epoch: h.epoch },
    url: 'rtmp://o1.example:1935/live/a',
  });
  assert.deepEqual((await s.ingest('live/b')).body, {
    key: 'live/b',
    origin: { nodeId: 'o2', owner: false },
    url: 'rtmp://o2.example:2935/live/b',
  });
  // o1 dies (no heartbeats); its lease still runs in Redis: nobody else may take the key.
  h.clock.t += 2000;
  h.send(Subject.NodeHeartbeat, heartbeat(node({ id: 'o2', role: 'origin', port: 2935 }), 1));
  await h.settle();
  h.clock.t += 2 * HEARTBEAT_MS;
  await h.reg.unregisterNode(proc('o1'));
  await h.core.reconciler.runOnce();
  const dead = await s.ingest('live/a');
  assert.equal(dead.status, 503);
  assert.match((dead.body as { error: string }).error, /owned by o1/);
  // The lease runs out in Redis: the view learns it from the lookup and offers o2.
  h.regClock.t += 10_001;
  assert.deepEqual((await s.ingest('live/a')).body, {
    key: 'live/a',
    origin: { nodeId: 'o2', owner: false },
    url: 'rtmp://o2.example:2935/live/a',
  });
  assert.equal(h.core.view.owner('live/a'), undefined);
  h.clock.t += 2 * HEARTBEAT_MS + 1;
  assert.deepEqual(await s.ingest('live/b'), { status: 503, body: { error: 'no origin available' } });
  h.core.stop();
});

test('stream: codecs recorded after the publish (no event says so) are read from Redis when asked', async () => {
  const h = await setup();
  const c = await h.reg.claim('live/m', proc('o2'), 10_000);
  assert.ok(c.ok);
  h.send(Subject.StreamPublished, {
    v: 1,
    ts: NOW,
    key: 'live/m',
    epoch: c.epoch,
    sessionId: 's',
    nodeId: 'o2',
    instanceId: 'o2-instance',
  });
  await h.settle();
  assert.deepEqual(h.core.view.owner('live/m')?.media, {});
  await h.reg.setMediaInfo('live/m', proc('o2'), c.epoch, { videoCodec: 'h264' });
  assert.deepEqual(((await h.core.scheduler.stream('live/m')).body as { media: object }).media, {
    videoCodec: 'h264',
  });
  h.reg.down = true;
  assert.equal((await h.core.scheduler.stream('live/m')).status, 200, 'known: answered from the view');
  h.reg.down = false;
  h.core.stop();
});
