import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './net.ts';
import { killChild, launchRedis } from './redis.ts';

// A throwaway Redis Cluster of masters only (no replicas) on loopback ports of its own, made
// with `redis-cli --cluster create`. No persistence: a node killed and started again keeps its
// identity and slots (its nodes.conf) but comes back empty, like a crash without AOF/RDB.

export interface TestRedisCluster {
  /** redis-cluster://:password@127.0.0.1:<port of node 0>,127.0.0.1:<port of node 1> */
  url: string;
  ports: number[];
  password: string;
  /** A plain client of node `i` (disconnect it when done). */
  client(i: number): Redis;
  /** SIGKILL node `i` (a crash). */
  kill9(i: number): Promise<void>;
  /** Start node `i` again (same port, same cluster identity, no data); no-op while it runs. */
  start(i: number): Promise<void>;
  /** SIGSTOP / SIGCONT node `i`: alive but not answering. */
  pause(i: number): void;
  resume(i: number): void;
  /** Resolves once every node reports cluster_state:ok. */
  waitOk(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const run = promisify(execFile);

export async function startRedisCluster(masters = 3, password = 'cl:pw/1'): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-cluster-'));
  const ports: number[] = [];
  const busPorts: number[] = [];
  for (let i = 0; i < masters; i++) {
    ports.push(await freePort());
    busPorts.push(await freePort());
  }
  const args = (i: number): string[] => {
    const p = String(ports[i]);
    return [
      ...['--port', p, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${p}.conf`],
      // The bus port is its own free port (port + 10000 may be taken, or past 65535).
      ...['--cluster-port', String(busPorts[i]), '--cluster-node-timeout', '5000'],
      ...['--requirepass', password, '--masterauth', password, '--daemonize', 'no'],
    ];
  };
  const children: (ChildProcess | null)[] = [];
  const cluster: TestRedisCluster = {
    url: `redis-cluster://:${encodeURIComponent(password)}@127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}`,
    ports,
    password,
    client: (i) => new Redis({ host: '127.0.0.1', port: ports[i]!, password, maxRetriesPerRequest: 1 }),
    kill9: async (i) => {
      const c = children[i];
      children[i] = null;
      if (c) await killChild(c, 'SIGKILL');
    },
    start: async (i) => {
      if (children[i]) return;
      children[i] = await launchRedis('redis-server', args(i), ports[i]!);
    },
    pause: (i) => children[i]?.kill('SIGSTOP'),
    resume: (i) => children[i]?.kill('SIGCONT'),
    waitOk: async (timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (let i = 0; i < ports.length; i++) {
        const r = cluster.client(i);
        try {
          while (!/cluster_state:ok/.test(String(await r.call('CLUSTER', 'INFO').catch(() => '')))) {
            if (Date.now() > deadline) throw new Error(`cluster not ok after ${timeoutMs} ms`);
            await new Promise((res) => setTimeout(res, 50));
          }
        } finally {
          r.disconnect();
        }
      }
    },
    stop: async () => {
      await Promise.all(children.flatMap((c) => (c ? [killChild(c, 'SIGKILL')] : [])));
      children.fill(null);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (let i = 0; i < masters; i++) await cluster.start(i);
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    await run(
      'redis-cli',
      [
        '-a',
        password,
        '--no-auth-warning',
        '--cluster',
        'create',
        ...nodes,
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 20_000 },
    );
    await cluster.waitOk();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}
