import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../libs/config/load.ts';
import { loadSchedulerConfig } from '../../../services/scheduler/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-sched-conf-'));
const file = (o: unknown): string => {
  const f = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify(o));
  return f;
};

test('defaults', () => {
  const { webhooks, ...rest } = loadSchedulerConfig(undefined, {});
  // Webhooks are off by default (their own defaults are the media roles', tested there).
  assert.equal(webhooks.enabled, false);
  assert.deepEqual(rest, {
    nodeId: '',
    log: { level: 'info', format: 'auto' },
    listen: ':8090',
    cluster: {
      redisUrl: 'redis://127.0.0.1:6379/0',
      natsUrl: '',
      natsCredsFile: '',
      natsCaFile: '',
      natsCertFile: '',
      natsKeyFile: '',
      heartbeatMs: 2000,
      reconcileMs: 10_000,
      fullReconcileMs: 600_000,
      cacheMs: 500,
    },
    view: { maxNodes: 10_000, maxStreams: 200_000, maxStreamsPerNode: 100_000, maxSessions: 200_000 },
    api: { token: '', protectStats: false },
    routing: { maxLoadRatio: 0.9, preferRelaying: true },
  });
});

test('environment overrides', () => {
  const c = loadSchedulerConfig(undefined, {
    SLUICE_NODE_ID: 'sched-1',
    SLUICE_SCHEDULER_LISTEN: '127.0.0.1:0',
    SLUICE_REDIS_URL: 'redis://:pw@10.0.0.2:6380/1',
    SLUICE_NATS_URL: 'nats://10.0.0.3:4222',
    SLUICE_NATS_CREDS: '/etc/sluice/scheduler.creds',
    SLUICE_NATS_CA: '/etc/sluice/ca.pem',
    SLUICE_NATS_CERT: '/etc/sluice/client.pem',
    SLUICE_NATS_KEY: '/etc/sluice/client-key.pem',
    SLUICE_API_TOKEN: 't1,t2',
  });
  assert.equal(c.api.token, 't1,t2');
  assert.equal(c.nodeId, 'sched-1');
  assert.equal(c.listen, '127.0.0.1:0');
  assert.equal(c.cluster.redisUrl, 'redis://:pw@10.0.0.2:6380/1');
  assert.equal(c.cluster.natsUrl, 'nats://10.0.0.3:4222');
  assert.equal(c.cluster.natsCredsFile, '/etc/sluice/scheduler.creds');
  assert.equal(c.cluster.natsCaFile, '/etc/sluice/ca.pem');
  assert.equal(c.cluster.natsCertFile, '/etc/sluice/client.pem');
  assert.equal(c.cluster.natsKeyFile, '/etc/sluice/client-key.pem');
});

test('a file with routing settings', () => {
  const c = loadSchedulerConfig(
    file({ routing: { maxLoadRatio: 0.5, preferRelaying: false }, cluster: { cacheMs: 0 } }),
    {},
  );
  assert.deepEqual(c.routing, { maxLoadRatio: 0.5, preferRelaying: false });
  assert.equal(c.cluster.cacheMs, 0);
});

const bad: [string, unknown, RegExp][] = [
  ['unknown key', { listn: ':1' }, /listn: unknown key/],
  ['bad listen', { listen: 'nope' }, /listen/],
  ['ratio above 1', { routing: { maxLoadRatio: 1.5 } }, /routing\.maxLoadRatio/],
  ['ratio 0', { routing: { maxLoadRatio: 0 } }, /routing\.maxLoadRatio/],
  ['cache over a second', { cluster: { cacheMs: 5000 } }, /cluster\.cacheMs/],
  ['reconcile too often', { cluster: { reconcileMs: 10 } }, /cluster\.reconcileMs/],
  ['no room for nodes', { view: { maxNodes: 0 } }, /view\.maxNodes/],
  ['unknown view key', { view: { maxEdges: 5 } }, /maxEdges/],
  ['redis url scheme', { cluster: { redisUrl: 'http://x' } }, /cluster\.redisUrl/],
  ['nats url scheme', { cluster: { natsUrl: 'redis://x' } }, /cluster\.natsUrl/],
];

for (const [name, cfg, re] of bad) {
  test(`rejects: ${name}`, () => {
    assert.throws(
      () => loadSchedulerConfig(file(cfg), {}),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
    );
  });
}

test('rejects a bad SLUICE_SCHEDULER_LISTEN naming the variable', () => {
  assert.throws(
    () => loadSchedulerConfig(undefined, { SLUICE_SCHEDULER_LISTEN: 'x' }),
    (e: unknown) => e instanceof ConfigError && /SLUICE_SCHEDULER_LISTEN/.test(e.message),
  );
});
