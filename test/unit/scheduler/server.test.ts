import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { MemoryRegistry } from '../../../libs/cluster/memory-registry.ts';
import type { StreamOwner } from '../../../libs/cluster/types.ts';
import { silentLogger } from '../../../libs/log/logger.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import {
  readNodes,
  type ClusterNode,
  type RegistryReader,
} from '../../../services/scheduler/registry-cache.ts';
import { Scheduler } from '../../../services/scheduler/scheduler.ts';
import { SchedulerServer } from '../../../services/scheduler/server.ts';
import { node, proc, register } from './fixtures.ts';

// The HTTP layer in process, over a registry that can be switched off.

const reg = new MemoryRegistry();
let down = false;
const flaky: RegistryReader = {
  lookup: (k: string): Promise<StreamOwner | null> =>
    down ? Promise.reject(new Error('down')) : reg.lookup(k),
  listStreams: (): Promise<StreamOwner[]> => (down ? Promise.reject(new Error('down')) : reg.listStreams()),
  listNodes: (): Promise<ClusterNode[]> => (down ? Promise.reject(new Error('down')) : readNodes(reg)),
};
const counters = new Counters();
const server = new SchedulerServer({
  scheduler: new Scheduler({
    registry: flaky,
    routing: { maxLoadRatio: 0.9, preferRelaying: true },
    heartbeatMs: 2000,
  }),
  counters,
  log: silentLogger(),
  nodeId: 'sched-test',
  ready: () =>
    flaky.listNodes().then(
      () => true,
      () => false,
    ),
});
let port = 0;

before(async () => {
  port = (await server.listen('127.0.0.1', 0)).port;
  const now = Date.now();
  const fresh = (n: ClusterNode): ClusterNode => ({ ...n, updatedAt: now });
  assert.ok((await reg.claim('live/a', proc('o1'), 60_000)).ok);
  await register(reg, fresh(node({ id: 'o1', role: 'origin' })), 60_000);
  await register(reg, fresh(node({ id: 'e1', relaying: { 'live/a': 2 } })), 60_000);
});
after(() => server.close());

function get(
  path: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const cases: [string, number, RegExp?][] = [
  ['/healthz', 200, /"status":"ok"/],
  ['/readyz', 200],
  ['/api/v1/streams', 200, /"key":"live\/a"/],
  ['/api/v1/streams?x=1', 200],
  ['/api/v1/streams/live/a', 200, /"edges":\[\{"nodeId":"e1","viewers":2\}\]/],
  ['/api/v1/streams/live/b', 404, /not published/],
  ['/api/v1/nodes', 200, /"healthy":true/],
  ['/api/v1/route/live/a?protocol=rtmp', 200, /rtmp:\/\/e1\.example:1935\/live\/a/],
  ['/api/v1/route/live/a?protocol=bogus', 400, /unknown protocol/],
  ['/api/v1/ingest/live/a', 200, /"owner":true/],
  ['/play/live/a.flv', 302],
  ['/play/live/a.rtmp', 404],
  ['/play/live/a', 400],
  // Malformed keys: 400, never a crash.
  ['/api/v1/streams/', 400, /invalid stream key/],
  ['/api/v1/streams/live', 400],
  ['/api/v1/streams/live/%', 400],
  ['/api/v1/streams/live/..', 400],
  ['/api/v1/streams/live//a', 400],
  ['/api/v1/route/live/a%00b', 400],
  ['/api/v1/ingest/%E0%A4%A', 400],
  ['/api/v1/route/' + 'a/'.repeat(600) + 'b', 400],
  ['/play/live/%2e%2e/x.flv', 400],
  ['/api/v1', 404],
  ['/api/v1/streamsX', 404],
  ['/', 404],
];

for (const [path, status, body] of cases) {
  test(`GET ${path.slice(0, 60)} -> ${status}`, async () => {
    const r = await get(path);
    assert.equal(r.status, status, r.body);
    if (path !== '/metrics') assert.doesNotThrow(() => JSON.parse(r.body) as unknown);
    if (body) assert.match(r.body, body);
    assert.equal(r.headers['cache-control'], 'no-store');
  });
}

test('/play redirects to the relaying edge, keeping the query', async () => {
  const r = await get('/play/live/a.flv?token=t1');
  assert.equal(r.status, 302);
  assert.equal(r.headers.location, 'http://e1.example:8080/live/a.flv?token=t1');
  assert.equal((await get('/play/live/a.m3u8')).headers.location, 'http://e1.example:8080/live/a.m3u8');
});

test('HEAD has no body; other methods get 405', async () => {
  const h = await get('/api/v1/streams', 'HEAD');
  assert.equal(h.status, 200);
  assert.equal(h.body, '');
  const p = await get('/api/v1/streams', 'POST');
  assert.equal(p.status, 405);
  assert.equal(p.headers.allow, 'GET, HEAD');
});

test('registry down: 503 with Retry-After, readyz 503, healthz still 200', async () => {
  down = true;
  try {
    for (const path of [
      '/api/v1/streams',
      '/api/v1/nodes',
      '/api/v1/route/live/a',
      '/api/v1/ingest/live/a',
      '/play/live/a.flv',
    ]) {
      const r = await get(path);
      assert.equal(r.status, 503, path);
      assert.deepEqual(JSON.parse(r.body), { error: 'registry unavailable' });
      assert.equal(r.headers['retry-after'], '1');
    }
    assert.equal((await get('/readyz')).status, 503);
    assert.equal((await get('/healthz')).status, 200);
  } finally {
    down = false;
  }
  assert.equal((await get('/readyz')).status, 200);
});

test('metrics count requests and registry errors', async () => {
  const r = await get('/metrics');
  assert.equal(r.status, 200);
  assert.match(r.body, /sluice_scheduler_requests_total\{endpoint="route",status="200"\} \d+/);
  assert.match(r.body, /sluice_scheduler_registry_errors_total \d+/);
});

test('drain: readyz says draining, answers go on', async () => {
  server.drain();
  const r = await get('/readyz');
  assert.equal(r.status, 503);
  assert.match(r.body, /draining/);
  assert.equal((await get('/api/v1/streams')).status, 200);
});
