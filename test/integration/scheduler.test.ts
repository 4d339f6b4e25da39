import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect as natsConnect, type NatsConnection } from 'nats';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import { Subject, type Holder, type NodeInfo } from '../../libs/cluster/types.ts';
import { FakeNode } from './helpers/fake-node.ts';
import { startNats, type NatsServer } from './helpers/nats.ts';
import { startRedis, type TestRedis } from './helpers/redis.ts';
import { sleep, waitFor } from './helpers/sluice.ts';
import { SLUICE_BIN } from './helpers/build.ts';

// Scheduler replicas over a real redis-server and nats-server, with nodes running the real
// cluster agent (ClusterAgent, RedisRegistry, NatsBus) around a fake media node: replicas
// converge on identical answers, forged events change nothing, liveness is the scheduler's
// receive time whatever a node's clock says, Redis outages leave routing up, SIGTERM is clean.

const HEARTBEAT_MS = 500;
const NODE_TTL_MS = 1500;
const RECONCILE_MS = 1000;

interface SchedulerProc {
  proc: ChildProcess;
  base: string;
  exited: Promise<number | null>;
}

let redis: TestRedis;
let nats: NatsServer;
let registry: RedisRegistry;
let raw: NatsConnection;
const schedulers: SchedulerProc[] = [];
const nodes: FakeNode[] = [];

async function startScheduler(id: string, natsUrl: string): Promise<SchedulerProc> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sched-'));
  const file = join(dir, 'scheduler.json');
  writeFileSync(
    file,
    JSON.stringify({ cluster: { heartbeatMs: HEARTBEAT_MS, reconcileMs: RECONCILE_MS, cacheMs: 100 } }),
  );
  const proc = spawn(process.execPath, [SLUICE_BIN, 'scheduler', '--config', file], {
    env: {
      ...process.env,
      SLUICE_NODE_ID: id,
      SLUICE_REDIS_URL: redis.url,
      SLUICE_SCHEDULER_LISTEN: '127.0.0.1:0',
      SLUICE_NATS_URL: natsUrl,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const listen = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as { msg?: string; listen?: string };
        if (rec.msg === 'scheduler listening' && rec.listen) resolve(rec.listen);
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`scheduler exited (${code}) before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`scheduler did not start in 20 s: ${stderr}`)), 20_000).unref();
  });
  return { proc, base: `http://${listen}`, exited };
}

async function node(nodeId: string, role: 'origin' | 'edge'): Promise<FakeNode> {
  const n = new FakeNode({
    nodeId,
    role,
    redisUrl: redis.url,
    natsUrl: nats.url,
    heartbeatMs: HEARTBEAT_MS,
    nodeTtlMs: NODE_TTL_MS,
  });
  nodes.push(n);
  return n.start();
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** What may differ between replicas: when each last heard or read something (updatedAt is the node's clock at that time). */
const TIMING_FIELDS = new Set(['ttlMs', 'heardMsAgo', 'reconciledMsAgo', 'updatedAt']);

async function get(s: SchedulerProc, path: string): Promise<Reply> {
  const res = await fetch(s.base + path, { redirect: 'manual' });
  const text = await res.text();
  return {
    status: res.status,
    body: JSON.parse(text, (k, v: unknown) => (TIMING_FIELDS.has(k) ? 0 : v)) as Record<string, unknown>,
  };
}

/** The same answer from every replica (polled until they agree), returned. */
async function agreed(path: string, ok: (r: Reply) => boolean, what: string): Promise<Reply> {
  let last: Reply[] = [];
  try {
    await waitFor(
      async () => {
        last = await Promise.all(schedulers.map((s) => get(s, path)));
        return last.every((r) => ok(r) && JSON.stringify(r) === JSON.stringify(last[0]));
      },
      8000,
      what,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last answers: ${JSON.stringify(last)}`, { cause: e });
  }
  return last[0]!;
}

const streamOf = (r: Reply) =>
  r.body as { owner?: { nodeId: string; epoch: number }; edges?: { nodeId: string }[] };
const routeOf = (r: Reply) => (r.body as { edge?: { nodeId: string; reason: string } }).edge;

let origin: FakeNode;
let edges: FakeNode[] = [];
let epochA = 0;

before(async () => {
  [redis, nats] = await Promise.all([startRedis(), startNats()]);
  registry = new RedisRegistry({ url: redis.url });
  raw = await natsConnect({ servers: nats.url });
  // Two replicas on NATS, one without (it polls Redis).
  schedulers.push(
    ...(await Promise.all([
      startScheduler('sched-1', nats.url),
      startScheduler('sched-2', nats.url),
      startScheduler('sched-polling', ''),
    ])),
  );
  origin = await node('origin-1', 'origin');
  edges = await Promise.all(['edge-1', 'edge-2', 'edge-3'].map((id) => node(id, 'edge')));
});

after(async () => {
  for (const s of schedulers) if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
  await Promise.allSettled(nodes.map((n) => n.crash()));
  await raw?.close();
  await registry?.close();
  await Promise.allSettled([redis?.stop(), nats?.stop()]);
});

test('replicas (two on NATS, one polling Redis) converge on identical answers', async () => {
  const claim = await registry.claim('live/a', origin.holder, 60_000);
  assert.ok(claim.ok);
  epochA = claim.epoch;
  await registry.setMediaInfo('live/a', origin.holder, epochA, { videoCodec: 'avc1.42c01e', width: 640 });
  origin.setStream('live/a', { viewers: 1, relaying: false, publishing: true });
  origin.bus.publish(Subject.StreamPublished, {
    ...origin.agent.base(),
    key: 'live/a',
    epoch: epochA,
    sessionId: 's1',
  });
  edges[0]!.relay('live/a', 'origin-1', epochA, 3);

  const stream = await agreed(
    '/api/v1/streams/live/a',
    (r) => r.status === 200 && streamOf(r).edges?.length === 1,
    'live/a with its relaying edge everywhere',
  );
  assert.deepEqual(streamOf(stream).owner, {
    nodeId: 'origin-1',
    epoch: epochA,
    since: (stream.body.owner as { since: number }).since,
    ttlMs: 0,
    viewers: 1,
    urls: {
      rtmp: 'rtmp://origin-1.sim:1935/live/a',
      flv: 'http://origin-1.sim:8080/live/a.flv',
      'ws-flv': 'ws://origin-1.sim:8080/live/a.flv',
      internalRtmp: 'rtmp://127.0.0.1:1935/live/a',
    },
  });
  assert.deepEqual(stream.body.edges, [{ nodeId: 'edge-1', viewers: 3 }]);
  assert.deepEqual(stream.body.media, { videoCodec: 'avc1.42c01e', width: 640 });

  const route = await agreed('/api/v1/route/live/a?protocol=rtmp', (r) => r.status === 200, 'route');
  assert.deepEqual(route.body, {
    key: 'live/a',
    protocol: 'rtmp',
    edge: { nodeId: 'edge-1', reason: 'relaying', loadRatio: 0.004 },
    url: 'rtmp://edge-1.sim:1935/live/a',
  });
  for (let i = 0; i < 12; i++)
    await agreed(`/api/v1/route/live/k${i}`, (r) => r.status === 200, `route k${i}`);
  // Fake nodes serve rtmp, flv and ws-flv only.
  await agreed('/api/v1/route/live/a?protocol=hls', (r) => r.status === 503, 'no hls anywhere');
  await agreed('/api/v1/ingest/live/a', (r) => r.status === 200, 'ingest');
  await agreed('/api/v1/ingest/live/new', (r) => r.status === 200, 'ingest of a new key');

  const n1 = await agreed('/api/v1/nodes?limit=2', (r) => r.status === 200, 'nodes page 1');
  const n2 = await agreed(
    `/api/v1/nodes?limit=2&cursor=${String(n1.body.nextCursor)}`,
    (r) => r.status === 200,
    'nodes page 2',
  );
  const ids = [...(n1.body.nodes as NodeInfo[]), ...(n2.body.nodes as NodeInfo[])].map((n) => n.nodeId);
  assert.deepEqual(ids, ['edge-1', 'edge-2', 'edge-3', 'origin-1']);
  assert.equal(n2.body.nextCursor, null);
});

test('a presence change reaches every replica; a relaying edge that crashes drops out of routing', async () => {
  edges[1]!.relay('live/b', 'origin-1', 1, 5);
  const started = Date.now();
  await agreed(
    '/api/v1/route/live/b?protocol=flv',
    (r) => routeOf(r)?.nodeId === 'edge-2' && routeOf(r)?.reason === 'relaying',
    'live/b routed to edge-2 everywhere',
  );
  const edge2 = edges[1]!;
  await edge2.crash();
  const crashed = Date.now();
  await agreed(
    '/api/v1/route/live/b?protocol=flv',
    (r) => r.status === 200 && routeOf(r)?.nodeId !== 'edge-2',
    'live/b away from the crashed edge',
  );
  // Within two heartbeats on NATS; the polling replica within the record's TTL plus a reconcile.
  assert.ok(Date.now() - crashed < NODE_TTL_MS + 2 * RECONCILE_MS + 1000, `${Date.now() - crashed} ms`);
  assert.ok(crashed - started < 8000);
});

test('a forged or replayed stream.published from a raw NATS client does not change the stream', async () => {
  const before = await agreed('/api/v1/streams/live/a', (r) => r.status === 200, 'live/a');
  const forged = (o: Partial<{ key: string; nodeId: string; instanceId: string; epoch: number }>) =>
    JSON.stringify({
      v: 1,
      nodeId: 'edge-3',
      instanceId: 'forgedInstance01',
      ts: Date.now(),
      key: 'live/a',
      epoch: epochA + 100,
      sessionId: 'forged',
      ...o,
    });
  raw.publish(Subject.StreamPublished, forged({}));
  raw.publish(Subject.StreamPublished, forged({ nodeId: 'origin-1', instanceId: origin.holder.instanceId }));
  raw.publish(Subject.StreamPublished, forged({ epoch: epochA, nodeId: 'origin-1' })); // a replay
  raw.publish(Subject.StreamPublished, forged({ key: 'live/ghost' }));
  raw.publish(
    Subject.StreamUnpublished,
    JSON.stringify({ ...(JSON.parse(forged({ epoch: epochA })) as object), reason: 'forged' }),
  );
  await raw.flush();
  // The replicas did receive them (counted), and answer exactly as before.
  for (const s of schedulers.slice(0, 2)) {
    await waitFor(
      async () =>
        /scheduler_events_total\{subject="sluice.v1.stream.unpublished"\} [1-9]/.test(
          await (await fetch(`${s.base}/metrics`)).text(),
        ),
      3000,
      'the forged events received',
    );
  }
  await sleep(300);
  const afterwards = await agreed('/api/v1/streams/live/a', (r) => r.status === 200, 'live/a');
  assert.deepEqual(afterwards, before);
  await agreed('/api/v1/streams/live/ghost', (r) => r.status === 404, 'no ghost stream');
});

test("liveness is the scheduler's receive time: a node's clock an hour ahead or a day behind changes nothing", async () => {
  const skewed = async (nodeId: string, offsetMs: number): Promise<{ beat: () => void; holder: Holder }> => {
    const holder = { nodeId, instanceId: `${nodeId}-instance-x` };
    const info: NodeInfo = {
      ...holder,
      role: 'edge',
      internal: { rtmp: '127.0.0.1:1935' },
      public: { rtmp: `${nodeId}.sim:1935` },
      protocols: ['rtmp'],
      load: {
        publishers: 0,
        players: 0,
        relays: 0,
        bytesInPerSec: 0,
        bytesOutPerSec: 0,
        cpuPercent: 0,
        maxConnections: 10,
      },
      draining: false,
      startedAt: Date.now() + offsetMs,
      updatedAt: Date.now() + offsetMs,
    };
    await registry.registerNode(info, 60_000);
    await registry.writePresence(holder, 0, {}, true, 60_000);
    const beat = (): void => {
      const { updatedAt: _, ...rest } = info;
      raw.publish(
        Subject.NodeHeartbeat,
        JSON.stringify({ ...rest, v: 1, ts: Date.now() + offsetMs, presenceSeq: 0 }),
      );
    };
    return { beat, holder };
  };
  const ahead = await skewed('edge-ahead', 3_600_000);
  const behind = await skewed('edge-behind', -86_400_000);
  const healthyOf = async (id: string): Promise<boolean[]> =>
    Promise.all(
      schedulers.slice(0, 2).map(async (s) => {
        const r = await get(s, '/api/v1/nodes?limit=1000');
        return (
          (r.body.nodes as { nodeId: string; healthy: boolean }[]).find((n) => n.nodeId === id)?.healthy ??
          false
        );
      }),
    );
  // Both beat: both healthy (the one a day behind too).
  const timer = setInterval(() => {
    ahead.beat();
    behind.beat();
  }, HEARTBEAT_MS);
  try {
    await waitFor(
      async () => [...(await healthyOf('edge-ahead')), ...(await healthyOf('edge-behind'))].every(Boolean),
      5000,
      'both healthy',
    );
  } finally {
    clearInterval(timer);
  }
  // They stop beating; their records (updatedAt an hour ahead for one) live on in Redis for a minute.
  const stopped = Date.now();
  await waitFor(
    async () => !(await healthyOf('edge-ahead')).some(Boolean),
    5000,
    'the silent node ahead unhealthy',
  );
  const tookMs = Date.now() - stopped;
  assert.ok(tookMs >= 2 * HEARTBEAT_MS - 600 && tookMs < 2 * HEARTBEAT_MS + 1500, `${tookMs} ms`);
  assert.deepEqual(await healthyOf('edge-behind'), [false, false]);
  await registry.unregisterNode(ahead.holder);
  await registry.unregisterNode(behind.holder);
});

test('Redis down: not ready (stale), routing goes on from the view, lookups 503; back to ready when Redis is', async () => {
  const routesBefore = await Promise.all(schedulers.map((s) => get(s, '/api/v1/route/live/a?protocol=flv')));
  await redis.stop();
  for (const s of schedulers) {
    await waitFor(async () => (await fetch(`${s.base}/readyz`)).status === 503, 5000, 'readyz 503');
    const ready = (await get(s, '/readyz')).body;
    assert.deepEqual([ready.status, ready.registry, ready.stale], ['registry unavailable', 'down', true]);
    assert.equal((await fetch(`${s.base}/healthz`)).status, 200);
    assert.match(await (await fetch(`${s.base}/metrics`)).text(), /^sluice_scheduler_view_stale 1$/m);
    assert.equal((await get(s, '/api/v1/streams/live/a')).status, 200, 'from the view');
    assert.equal((await get(s, '/api/v1/streams/live/unknown')).status, 503, 'needs Redis');
    assert.equal((await get(s, '/api/v1/ingest/live/unknown')).status, 503, 'needs Redis');
  }
  // Nodes keep beating on NATS: the replicas on NATS keep routing as before.
  await sleep(2 * HEARTBEAT_MS + 200);
  for (const [i, s] of schedulers.slice(0, 2).entries()) {
    assert.deepEqual(await get(s, '/api/v1/route/live/a?protocol=flv'), routesBefore[i]);
  }
  await redis.restart();
  for (const s of schedulers) {
    await waitFor(async () => (await fetch(`${s.base}/readyz`)).status === 200, 10_000, 'readyz 200');
  }
  // The restarted Redis is empty: the claim on live/a is gone, and the reconcile says so.
  await agreed('/api/v1/streams/live/a', (r) => r.status === 404, 'live/a gone with the old Redis');
  await agreed('/api/v1/route/live/a?protocol=flv', (r) => r.status === 200, 'nodes registered again');
});

test('SIGTERM stops every scheduler cleanly', async () => {
  for (const s of schedulers) {
    s.proc.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  }
});
