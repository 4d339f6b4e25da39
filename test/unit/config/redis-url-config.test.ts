import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../../libs/config/load.ts';
import { loadEdgeConfig } from '../../../services/edge/config.ts';
import { redisTargetOf } from '../../../services/node/cluster-config.ts';
import { loadOriginConfig } from '../../../services/origin/config.ts';
import { loadSchedulerConfig } from '../../../services/scheduler/config.ts';
import { bad, good } from '../cluster/redis-url-cases.ts';

// The schema's pattern (shared by origin, edge and scheduler) must let every valid URL form
// through; whatever it lets through that is still wrong, redisTargetOf() reports as a config
// error naming the key, as the roles do at startup.

const loaders = [
  (env: NodeJS.ProcessEnv) => loadOriginConfig(undefined, env).cluster,
  (env: NodeJS.ProcessEnv) => loadEdgeConfig(undefined, env).cluster,
  (env: NodeJS.ProcessEnv) => loadSchedulerConfig(undefined, env).cluster,
];

test('cluster.redisUrl: every valid form passes the schema of each role', () => {
  for (const [url, want] of good) {
    for (const load of loaders) {
      const cluster = load({ SLUICE_REDIS_URL: url });
      assert.equal(cluster.redisUrl, url);
      assert.deepEqual(redisTargetOf(cluster), want);
    }
  }
});

test('cluster.redisUrl: every invalid URL is a config error naming the key', () => {
  const namesKey = (e: unknown): boolean => {
    if (e instanceof ConfigError && e.problems.length === 1 && /^cluster\.redisUrl: /.test(e.problems[0]!))
      return true;
    throw e;
  };
  for (const [url] of bad) {
    if (url === '') continue; // an empty variable means "not set"
    for (const load of loaders) {
      assert.throws(() => redisTargetOf(load({ SLUICE_REDIS_URL: url })), namesKey, url);
    }
    // The schema alone refuses other schemes, so a file checked against it without running
    // Sluice (Helm values) gets those right too.
    if (!/^rediss?(-sentinel|-cluster)?:\/\//.test(url)) {
      for (const load of loaders) assert.throws(() => load({ SLUICE_REDIS_URL: url }), namesKey, url);
    }
  }
});
