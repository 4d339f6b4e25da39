import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { silentLogger } from '../../libs/log/logger.ts';
import { Counters } from '../../libs/metrics/counters.ts';
import { Ownership } from '../../services/origin/ownership.ts';
import { FakeNode } from '../integration/helpers/fake-node.ts';
import { freePort } from '../integration/helpers/net.ts';
import { startNats, type NatsServer } from '../integration/helpers/nats.ts';
import { startRedis, type TestRedis } from '../integration/helpers/redis.ts';
import { SLUICE_BIN } from '../integration/helpers/build.ts';

// The simulated cluster: a private redis-server and nats-server (with its monitoring port), a
// real `sluice scheduler` process, and nodes running the real node-side cluster code in this
// process: ClusterAgent (records, presence, heartbeats) for every node, and the origin's
// Ownership (claims, lease refreshes, stream.published) for origins.

/** The defaults of a real deployment: what the per-node load is measured at. */
export const TIMING = { heartbeatMs: 2000, nodeTtlMs: 6000, leaseMs: 10_000, refreshMs: 3000 } as const;

export interface SimOrigin {
  node: FakeNode;
  ownership: Ownership;
}

export interface Scheduler {
  proc: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

export interface Infra {
  redis: TestRedis;
  nats: NatsServer;
  natsMonitorPort: number;
  scheduler: Scheduler;
  stop(): Promise<void>;
}

export async function startInfra(): Promise<Infra> {
  const natsMonitorPort = await freePort();
  const [redis, nats] = await Promise.all([
    startRedis(),
    startNats({ args: ['-m', String(natsMonitorPort)] }),
  ]);
  const scheduler = await startScheduler(redis.url, nats.url);
  return {
    redis,
    nats,
    natsMonitorPort,
    scheduler,
    async stop() {
      await scheduler.stop();
      await Promise.allSettled([redis.stop(), nats.stop()]);
    },
  };
}

async function startScheduler(redisUrl: string, natsUrl: string): Promise<Scheduler> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sim-'));
  const file = join(dir, 'scheduler.json');
  writeFileSync(file, JSON.stringify({ cluster: { heartbeatMs: TIMING.heartbeatMs } }));
  const proc = spawn(process.execPath, [SLUICE_BIN, 'scheduler', '--config', file], {
    env: {
      ...process.env,
      SLUICE_NODE_ID: 'sim-scheduler',
      SLUICE_REDIS_URL: redisUrl,
      SLUICE_NATS_URL: natsUrl,
      SLUICE_SCHEDULER_LISTEN: '127.0.0.1:0',
      NODE_OPTIONS: process.env.SIM_SCHEDULER_NODE_OPTIONS ?? '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  process.once('exit', () => proc.kill('SIGKILL'));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
    if (process.env.SIM_SCHEDULER_NODE_OPTIONS) process.stderr.write(d);
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const listen = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as { msg?: string; listen?: string };
        if (rec.msg === 'scheduler listening' && rec.listen) resolve(rec.listen);
        else if ((rec as { level?: number }).level !== undefined && (rec as { level: number }).level >= 40)
          process.stderr.write(`scheduler: ${line}\n`);
      } catch {
        // not a log line
      }
    });
    void exited.then(() => reject(new Error(`scheduler exited before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`scheduler did not start in 20 s: ${stderr}`)), 20_000).unref();
  });
  return {
    proc,
    url: `http://${listen}`,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Starts nodes with at most `parallel` connecting at once (a burst of 2,000 connections is no deployment). */
export async function startNodes(
  infra: Infra,
  ids: string[],
  role: 'origin' | 'edge',
  parallel = 50,
): Promise<FakeNode[]> {
  const out: FakeNode[] = [];
  for (let i = 0; i < ids.length; i += parallel) {
    const batch = ids.slice(i, i + parallel).map(
      (nodeId) =>
        new FakeNode({
          nodeId,
          role,
          redisUrl: infra.redis.url,
          natsUrl: infra.nats.url,
          heartbeatMs: TIMING.heartbeatMs,
          nodeTtlMs: TIMING.nodeTtlMs,
          maxConnections: 5000,
          protocols: role === 'edge' ? ['rtmp', 'flv', 'ws-flv'] : ['rtmp'],
        }),
    );
    // Real nodes beat out of phase; nodes started together here would beat together forever.
    await Promise.all(batch.map((n) => n.bus.ready));
    for (const n of batch) setTimeout(() => void n.start(), Math.random() * TIMING.heartbeatMs).unref();
    out.push(...batch);
  }
  // Every node has sent its first heartbeat.
  await new Promise((r) => setTimeout(r, TIMING.heartbeatMs + 100));
  return out;
}

/** An origin: a node plus the origin's real claim keeping (refresh every 3 s, 10 s leases). */
export function withOwnership(node: FakeNode): SimOrigin {
  const ownership = new Ownership({
    holder: node.holder,
    registry: node.registry,
    bus: node.bus,
    log: silentLogger(),
    counters: new Counters(),
    endRelays: () => {},
    leaseMs: TIMING.leaseMs,
    refreshMs: TIMING.refreshMs,
    outageGraceMs: 30_000,
    acceptWhileRegistryDown: false,
    fastTakeover: false,
  });
  return { node, ownership };
}

/** Publishes `key` on the origin the way an RTMP publish does: claim, announce, presence. */
export async function publishOn(o: SimOrigin, key: string, n: number): Promise<number> {
  const d = await o.ownership.authorize({ key, query: {}, sessionId: `sim-${n}`, remote: 'sim', protocol: 'rtmp' }, () => {});
  if (!d.ok) throw new Error(`publish of ${key} refused: ${d.description}`);
  o.node.setStream(key, { viewers: 0, relaying: false, publishing: true });
  return o.ownership.epochOf(key);
}
