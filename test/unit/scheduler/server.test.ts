import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { Subject } from '../../../libs/cluster/types.ts';
import { silentLogger } from '../../../libs/log/logger.ts';
import { encodeCursor } from '../../../services/scheduler/page.ts';
import { SchedulerServer } from '../../../services/scheduler/server.ts';
import { harness, heartbeat, node, proc, register } from './fixtures.ts';

// The HTTP layer in process, over the view of an in-memory registry that can be switched off.

const h = harness();
const server = new SchedulerServer({
  scheduler: h.core.scheduler,
  counters: h.counters,
  log: silentLogger(),
  nodeId: 'sched-test',
  status: h.core.status,
  gauges: h.core.gauges,
});
let port = 0;
const e1 = node({ id: 'e1', relaying: { 'live/a': 2 } });

before(async () => {
  port = (await server.listen('127.0.0.1', 0)).port;
  assert.ok((await h.reg.claim('live/a', proc('o1'), 60_000)).ok);
  await register(h.reg, node({ id: 'o1', role: 'origin' }));
  await register(h.reg, e1);
  h.core.start();
  await h.settle();
  h.send(Subject.NodeHeartbeat, heartbeat(e1, 1));
  await h.settle();
});
after(async () => {
  h.core.stop();
  await server.close();
});

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
  ['/readyz', 200, /"bootstrapped":true/],
  ['/api/v1/streams', 200, /"key":"live\/a".*"nextCursor":null/],
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
  // Paging parameters: 400 with the reason.
  ['/api/v1/streams?limit=0', 400, /limit must be an integer from 1 to 1000/],
  ['/api/v1/streams?limit=1001', 400, /limit/],
  ['/api/v1/nodes?limit=-1', 400, /limit/],
  ['/api/v1/nodes?limit=1.5', 400, /limit/],
  ['/api/v1/nodes?limit=', 400, /limit/],
  ['/api/v1/streams?cursor=', 400, /invalid cursor/],
  ['/api/v1/streams?cursor=%%%', 400, /invalid cursor/],
  ['/api/v1/streams?cursor=bGl2ZS9h', 400, /invalid cursor/], // base64url of "live/a": not a token we made
  [`/api/v1/nodes?cursor=${encodeCursor('streams', 'live/a')}`, 400, /invalid cursor/], // another listing's
  [`/api/v1/streams?cursor=${encodeCursor('streams', 'live/a')}=`, 400, /invalid cursor/], // padded
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

test('the web console: its page and env, nothing else under /console/, no redirect of /', async () => {
  const page = await get('/console/');
  assert.equal(page.status, 200);
  assert.match(page.body, /<script type="module" src="main.js">/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
  assert.deepEqual(JSON.parse((await get('/console/env.json')).body), {
    kind: 'scheduler',
    nodeId: 'sched-test',
  });
  assert.equal((await get('/console/../api/v1/nodes')).status, 404);
  assert.equal((await get('/')).status, 404, 'only the API port redirects /');
});

test('HEAD has no body; other methods get 405', async () => {
  const hd = await get('/api/v1/streams', 'HEAD');
  assert.equal(hd.status, 200);
  assert.equal(hd.body, '');
  const p = await get('/api/v1/streams', 'POST');
  assert.equal(p.status, 405);
  assert.equal(p.headers.allow, 'GET, HEAD');
});

test('Redis down: routing and listings answer from the view; readyz 503 says stale; lookups 503', async () => {
  h.reg.down = true;
  try {
    await h.core.reconciler.runOnce();
    const ready = await get('/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(
      (({ status, registry, stale, bootstrapped }) => ({ status, registry, stale, bootstrapped }))(
        JSON.parse(ready.body) as Record<string, unknown>,
      ),
      { status: 'registry unavailable', registry: 'down', stale: true, bootstrapped: true },
    );
    assert.equal((await get('/healthz')).status, 200);
    assert.equal((await get('/api/v1/route/live/a')).status, 200);
    assert.equal((await get('/play/live/a.flv')).status, 302);
    assert.equal((await get('/api/v1/streams')).status, 200);
    assert.equal((await get('/api/v1/streams/live/a')).status, 200, 'in the view');
    const unknown = await get('/api/v1/streams/live/unknown');
    assert.equal(unknown.status, 503);
    assert.deepEqual(JSON.parse(unknown.body), { error: 'registry unavailable' });
    assert.equal(unknown.headers['retry-after'], '1');
    assert.match((await get('/metrics')).body, /^sluice_scheduler_view_stale 1$/m);
  } finally {
    h.reg.down = false;
  }
  await h.core.reconciler.runOnce();
  assert.equal((await get('/readyz')).status, 200);
  assert.match((await get('/metrics')).body, /^sluice_scheduler_view_stale 0$/m);
});

test('metrics count requests, registry errors and events; gauges describe the view', async () => {
  const r = await get('/metrics');
  assert.equal(r.status, 200);
  assert.match(r.body, /sluice_scheduler_requests_total\{endpoint="route",status="200"\} \d+/);
  assert.match(r.body, /sluice_scheduler_registry_errors_total \d+/);
  assert.match(r.body, /sluice_scheduler_events_total\{subject="sluice.v1.node.heartbeat"\} 1/);
  assert.match(r.body, /^# TYPE sluice_scheduler_view_nodes gauge\nsluice_scheduler_view_nodes 2$/m);
  assert.match(r.body, /^sluice_scheduler_view_streams 1$/m);
});

test('drain: readyz says draining, answers go on', async () => {
  server.drain();
  const r = await get('/readyz');
  assert.equal(r.status, 503);
  assert.match(r.body, /draining/);
  assert.equal((await get('/api/v1/streams')).status, 200);
});
