import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import { EDGE_CONFIG, ORIGIN_CONFIG } from './helpers/cluster.ts';
import { startNats, type NatsServer } from './helpers/nats.ts';
import { startRedis, type TestRedis } from './helpers/redis.ts';
import { sleep, startRole, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// A cluster role whose Redis is down when it starts listens (liveness holds) but is not ready,
// and /readyz names the link that fails; once a real redis-server comes up on that address, it
// turns ready by itself.

let redis: TestRedis;
let nats: NatsServer;
const nodes: SluiceProcess[] = [];

before(async () => {
  [redis, nats] = await Promise.all([startRedis(), startNats()]);
  await redis.stop(); // the port is known, nothing answers on it
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  await Promise.all([redis?.stop(), nats?.stop()]);
});

interface Readyz {
  status: string;
  checks: Record<string, boolean>;
}

async function readyz(node: SluiceProcess): Promise<{ code: number; body: Readyz }> {
  const r = await fetch(`${node.api}/readyz`);
  return { code: r.status, body: (await r.json()) as Readyz };
}

test('origin and edge started while Redis is down: 503 naming the registry until Redis is up, then 200', async (t) => {
  const env = (id: string): Record<string, string> => ({
    SLUICE_NODE_ID: id,
    SLUICE_REDIS_URL: redis.url,
    SLUICE_NATS_URL: nats.url,
    SLUICE_ADVERTISE_HOST: '127.0.0.1',
    SLUICE_RELAY_SECRET: 'readiness-test-secret',
  });
  const started = await Promise.all([
    startRole('origin', ORIGIN_CONFIG, env('origin-r')),
    startRole('edge', EDGE_CONFIG, env('edge-r')),
  ]);
  nodes.push(...started);

  // Wait for the bus (NATS is up) so the registry is the one failing check, then watch it
  // stay so for a while: nothing but Redis can make these ready.
  for (const n of started) {
    await waitFor(async () => (await readyz(n)).body.checks.bus === true, 10_000, 'the bus connected');
  }
  for (let i = 0; i < 5; i++) {
    for (const n of started) {
      const r = await readyz(n);
      assert.equal(r.code, 503);
      assert.equal(r.body.status, 'unready');
      assert.deepEqual(r.body.checks, { listening: true, registry: false, bus: true, draining: false });
      assert.equal((await fetch(`${n.api}/healthz`)).status, 200, 'alive all the same');
    }
    await sleep(300);
  }

  const upAt = Date.now();
  await redis.restart();
  for (const n of started) {
    const r = await waitFor(
      async () => {
        const x = await readyz(n);
        return x.code === 200 ? x : null;
      },
      10_000,
      'ready once Redis is up',
    );
    assert.equal(r.body.status, 'ready');
    assert.deepEqual(r.body.checks, { listening: true, registry: true, bus: true, draining: false });
  }
  t.diagnostic(`Redis up -> both nodes ready: ${Date.now() - upAt} ms`);
  // Ready means working: both registered themselves in the fresh Redis.
  const registry = new RedisRegistry({ url: redis.url });
  try {
    await waitFor(
      async () => {
        const ids = (await registry.listNodes()).map((n) => n.nodeId).sort();
        return ids.join() === 'edge-r,origin-r';
      },
      5000,
      'both nodes registered',
    );
  } finally {
    await registry.close();
  }
});
