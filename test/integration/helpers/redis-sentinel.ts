import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './net.ts';
import { killChild, launchRedis } from './redis.ts';

// A throwaway Sentinel setup on loopback ports of its own: one master, one replica, one
// sentinel (quorum 1). The data nodes and the sentinel each have a password. No persistence.

export interface TestRedisSentinel {
  /** redis-sentinel://:<password>@127.0.0.1:<sentinel>/<masterName>/<db>?sentinelPassword=… */
  url(db?: number): string;
  masterName: string;
  password: string;
  sentinelPort: number;
  /** Data node ports; which one is the master changes with failovers. */
  dataPorts: number[];
  /** A plain client of a data node or of the sentinel (disconnect it when done). */
  client(port: number): Redis;
  /** The master's port as the sentinel reports it. */
  masterPort(): Promise<number>;
  /** Resolves once the sentinel knows a replica that is in sync and fit for a failover. */
  waitReplicaKnown(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const MASTER_NAME = 'sluice-test';

export async function startRedisSentinel(
  password = 'da:ta/pw',
  sentinelPassword = 'sen&tinel pw',
): Promise<TestRedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-sentinel-'));
  const children: ChildProcess[] = [];
  const [masterPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
  const data = (port: number, extra: string[] = []): string[] => [
    ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    ...['--dir', dir, '--dbfilename', `dump-${port}.rdb`, '--daemonize', 'no'],
    ...['--requirepass', password, '--masterauth', password, ...extra],
  ];
  const quote = (s: string): string => JSON.stringify(s);
  const confFile = join(dir, 'sentinel.conf');
  // Sentinel rewrites its config file (known replicas, epochs): it must be its own, writable.
  writeFileSync(
    confFile,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${quote(dir)}`,
      `requirepass ${quote(sentinelPassword)}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 1`,
      `sentinel auth-pass ${MASTER_NAME} ${quote(password)}`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 2000`,
      `sentinel failover-timeout ${MASTER_NAME} 10000`,
      '',
    ].join('\n'),
  );
  const s: TestRedisSentinel = {
    url: (db = 0) =>
      `redis-sentinel://:${encodeURIComponent(password)}@127.0.0.1:${sentinelPort}/${MASTER_NAME}/${db}` +
      `?sentinelPassword=${encodeURIComponent(sentinelPassword)}`,
    masterName: MASTER_NAME,
    password,
    sentinelPort,
    dataPorts: [masterPort, replicaPort],
    client: (port) =>
      new Redis({
        host: '127.0.0.1',
        port,
        password: port === sentinelPort ? sentinelPassword : password,
        maxRetriesPerRequest: 1,
      }),
    masterPort: async () => {
      const c = s.client(sentinelPort);
      try {
        const r = (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as string[];
        return Number(r[1]);
      } finally {
        c.disconnect();
      }
    },
    waitReplicaKnown: async (timeoutMs = 15_000) => {
      const c = s.client(sentinelPort);
      const deadline = Date.now() + timeoutMs;
      try {
        for (;;) {
          const replicas = (await c.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as string[][];
          const fit = replicas.some((flat) => {
            const r = new Map<string, string>();
            for (let i = 0; i + 1 < flat.length; i += 2) r.set(flat[i]!, flat[i + 1]!);
            return r.get('flags') === 'slave' && r.get('master-link-status') === 'ok';
          });
          if (fit) return;
          if (Date.now() > deadline) throw new Error(`sentinel knows no fit replica after ${timeoutMs} ms`);
          await new Promise((res) => setTimeout(res, 100));
        }
      } finally {
        c.disconnect();
      }
    },
    stop: async () => {
      await Promise.all(children.map((c) => killChild(c, 'SIGKILL')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    children.push(await launchRedis('redis-server', data(masterPort), masterPort));
    const replicaOf = ['--replicaof', '127.0.0.1', String(masterPort)];
    children.push(await launchRedis('redis-server', data(replicaPort, replicaOf), replicaPort));
    children.push(await launchRedis('redis-sentinel', [confFile], sentinelPort));
    await s.waitReplicaKnown();
  } catch (e) {
    await s.stop();
    throw e;
  }
  return s;
}
