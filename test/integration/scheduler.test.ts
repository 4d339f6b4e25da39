import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import type { Holder, NodeInfo, NodeStreamInfo } from '../../libs/cluster/types.ts';
import { startRedis, type TestRedis } from './helpers/redis.ts';
import { waitFor } from './helpers/sluice.ts';

// Two scheduler processes over one real Redis: fake origins and edges are written straight
// into the registry, and both replicas must give the same answers, follow the registry
// when an edge's record expires, and report Redis outages as 503.

const ROOT = new URL('../../', import.meta.url).pathname;

interface SchedulerProc {
  proc: ChildProcess;
  base: string;
  exited: Promise<number | null>;
}

let redis: TestRedis;
let registry: RedisRegistry;
const schedulers: SchedulerProc[] = [];

async function startScheduler(id: string, redisUrl: string): Promise<SchedulerProc> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sched-'));
  const file = join(dir, 'scheduler.json');
  // A long heartbeat keeps the hand-written records healthy for the whole test; a short
  // cache keeps the wait for an expiry short.
  writeFileSync(file, JSON.stringify({ cluster: { heartbeatMs: 15_000, cacheMs: 200 } }));
  const proc = spawn(process.execPath, [join(ROOT, 'bin/sluice.js'), 'scheduler', '--config', file], {
    env: {
      ...process.env,
      SLUICE_NODE_ID: id,
      SLUICE_REDIS_URL: redisUrl,
      SLUICE_SCHEDULER_LISTEN: '127.0.0.1:0',
      SLUICE_NATS_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
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

const proc = (nodeId: string): Holder => ({ nodeId, instanceId: `${nodeId}-instance` });

/** A node record as a node's agent writes it, and its presence. */
async function register(
  n: NodeInfo & { streams: Record<string, NodeStreamInfo> },
  ttlMs: number,
): Promise<void> {
  const { streams, ...info } = n;
  await registry.registerNode(info, ttlMs);
  await registry.writePresence(info, 1, streams, true, ttlMs);
}

function fakeNode(
  nodeId: string,
  role: 'origin' | 'edge',
  port: number,
  streams: Record<string, NodeStreamInfo> = {},
): NodeInfo & { streams: Record<string, NodeStreamInfo> } {
  const now = Date.now();
  return {
    nodeId,
    instanceId: proc(nodeId).instanceId,
    protocols: ['rtmp', 'flv', 'ws-flv'],
    role,
    internal: { rtmp: `127.0.0.1:${port}`, http: `127.0.0.1:${port + 1}`, api: `127.0.0.1:${port + 2}` },
    public: {
      rtmp: `${nodeId}.test:${port}`,
      http: `${nodeId}.test:${port + 1}`,
      api: `${nodeId}.test:${port + 2}`,
    },
    load: {
      publishers: 0,
      players: 2,
      relays: 1,
      bytesInPerSec: 0,
      bytesOutPerSec: 0,
      cpuPercent: 1,
      maxConnections: 100,
    },
    draining: false,
    startedAt: now - 10_000,
    updatedAt: now,
    streams,
  };
}

const origin1 = fakeNode('origin-1', 'origin', 19350, {
  'live/a': { viewers: 1, relaying: false, publishing: true },
});
const edgeA = fakeNode('edge-a', 'edge', 29350, {
  'live/a': { viewers: 2, relaying: true, publishing: false },
});
const edgeB = fakeNode('edge-b', 'edge', 39350);

async function both(
  path: string,
): Promise<[{ status: number; body: unknown }, { status: number; body: unknown }]> {
  const one = async (s: SchedulerProc): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(s.base + path, { redirect: 'manual' });
    // The lease left is read at each request: the one thing two replicas may not share.
    return {
      status: res.status,
      body: JSON.parse(await res.text(), (k, v: unknown) => (k === 'ttlMs' ? 0 : v)) as unknown,
    };
  };
  return [await one(schedulers[0]!), await one(schedulers[1]!)];
}

before(async () => {
  redis = await startRedis();
  registry = new RedisRegistry({ url: redis.url });
  schedulers.push(await startScheduler('sched-1', redis.url), await startScheduler('sched-2', redis.url));
});

after(async () => {
  for (const s of schedulers) if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
  await registry?.close();
  await redis?.stop();
});

test('both schedulers give identical answers from the registry', async () => {
  const claim = await registry.claim('live/a', proc('origin-1'), 60_000);
  assert.ok(claim.ok);
  await registry.setMediaInfo('live/a', proc('origin-1'), claim.epoch, {
    videoCodec: 'avc1.42c01e',
    width: 640,
    height: 360,
  });
  for (const n of [origin1, edgeA, edgeB]) await register(n, 60_000);

  for (const path of [
    '/api/v1/streams',
    '/api/v1/streams/live/a',
    '/api/v1/nodes',
    '/api/v1/route/live/a?protocol=flv',
    '/api/v1/route/live/a?protocol=rtmp',
    '/api/v1/route/live/other',
    '/api/v1/ingest/live/a',
    '/api/v1/ingest/live/b',
  ]) {
    const [a, b] = await both(path);
    assert.equal(a.status, 200, `${path}: ${JSON.stringify(a.body)}`);
    assert.deepEqual(a, b, path);
  }

  const [streams] = await both('/api/v1/streams');
  assert.deepEqual(streams.body, {
    streams: [
      {
        key: 'live/a',
        owner: {
          nodeId: 'origin-1',
          epoch: claim.epoch,
          since: (streams.body as { streams: { owner: { since: number } }[] }).streams[0]!.owner.since,
          ttlMs: (streams.body as { streams: { owner: { ttlMs: number } }[] }).streams[0]!.owner.ttlMs,
          viewers: 1,
          urls: {
            rtmp: 'rtmp://origin-1.test:19350/live/a',
            flv: 'http://origin-1.test:19351/live/a.flv',
            'ws-flv': 'ws://origin-1.test:19351/live/a.flv',
            internalRtmp: 'rtmp://127.0.0.1:19350/live/a',
          },
        },
        media: { videoCodec: 'avc1.42c01e', width: 640, height: 360 },
        edges: [{ nodeId: 'edge-a', viewers: 2 }],
      },
    ],
  });
  const [nodes] = await both('/api/v1/nodes');
  assert.deepEqual(
    (nodes.body as { nodes: (NodeInfo & { healthy: boolean })[] }).nodes.map((n) => [
      n.nodeId,
      n.role,
      n.healthy,
    ]),
    [
      ['edge-a', 'edge', true],
      ['edge-b', 'edge', true],
      ['origin-1', 'origin', true],
    ],
  );
  const [route] = await both('/api/v1/route/live/a?protocol=flv');
  assert.deepEqual(route.body, {
    key: 'live/a',
    protocol: 'flv',
    edge: { nodeId: 'edge-a', reason: 'relaying', loadRatio: 0.03 },
    url: 'http://edge-a.test:29351/live/a.flv',
  });
  const [ingest] = await both('/api/v1/ingest/live/a');
  assert.deepEqual(ingest.body, {
    key: 'live/a',
    origin: { nodeId: 'origin-1', owner: true, epoch: claim.epoch },
    url: 'rtmp://origin-1.test:19350/live/a',
  });
  const [missing] = await both('/api/v1/streams/live/nope');
  assert.equal(missing.status, 404);
});

test('/play redirects to the relaying edge', async () => {
  for (const s of schedulers) {
    const res = await fetch(`${s.base}/play/live/a.flv?token=x`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), 'http://edge-a.test:29351/live/a.flv?token=x');
  }
});

test('when the relaying edge record expires the route moves to the other edge', async () => {
  await register(edgeA, 500); // stops heartbeating: gone in half a second
  for (const s of schedulers) {
    await waitFor(
      async () => {
        const r = (await (await fetch(`${s.base}/api/v1/route/live/a?protocol=rtmp`)).json()) as {
          edge?: { nodeId: string };
        };
        return r.edge?.nodeId === 'edge-b';
      },
      5000,
      'route to move to edge-b',
    );
  }
  const [a, b] = await both('/api/v1/route/live/a?protocol=rtmp');
  assert.deepEqual(a, b);
  assert.deepEqual(a.body, {
    key: 'live/a',
    protocol: 'rtmp',
    edge: { nodeId: 'edge-b', reason: 'hash', loadRatio: 0.03 },
    url: 'rtmp://edge-b.test:39350/live/a',
  });
  const res = await fetch(`${schedulers[0]!.base}/play/live/a.flv`, { redirect: 'manual' });
  assert.equal(res.headers.get('location'), 'http://edge-b.test:39351/live/a.flv');
  const [streams] = await both('/api/v1/streams/live/a');
  assert.deepEqual((streams.body as { edges: unknown[] }).edges, []);
});

test('Redis down: readyz and answers say 503, healthz stays 200; back when Redis is', async () => {
  await redis.stop();
  for (const s of schedulers) {
    await waitFor(async () => (await fetch(`${s.base}/readyz`)).status === 503, 5000, 'readyz 503');
    assert.equal((await fetch(`${s.base}/healthz`)).status, 200);
    await waitFor(
      async () => (await fetch(`${s.base}/api/v1/route/live/a`)).status === 503,
      5000,
      'route 503',
    );
  }
  await redis.restart();
  for (const s of schedulers) {
    await waitFor(async () => (await fetch(`${s.base}/readyz`)).status === 200, 10_000, 'readyz 200');
  }
  // A restarted Redis is empty: nobody owns anything, no edge is registered.
  const [r] = await both('/api/v1/route/live/a');
  assert.equal(r.status, 503);
});

test('SIGTERM stops a scheduler cleanly', async () => {
  for (const s of schedulers) {
    s.proc.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  }
});
