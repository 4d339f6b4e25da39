import { randomBytes } from 'node:crypto';
import { startNats, type NatsServer } from '../integration/helpers/nats.ts';
import { startRedis, type TestRedis } from '../integration/helpers/redis.ts';
import { spawnServer, type SpawnedServer } from './server.ts';

/** The lightest real origin -> edge setup: private redis-server and nats-server, one origin, one edge. */
export interface BenchCluster {
  origin: SpawnedServer;
  edge: SpawnedServer;
  /** Nodes first (they release their claims), then NATS and Redis. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;

/**
 * Spawns the cluster on loopback ports. Nodes log at warn like the bench's standalone server;
 * the edge relay-pulls a stream from the origin when its first viewer asks (services/edge).
 * Both nodes run on `pinCpu` when given; Redis and NATS, nearly idle, stay with the bench.
 */
export async function startBenchCluster(
  workDir: string,
  nodeArgs: string[],
  pinCpu: number | null,
): Promise<BenchCluster> {
  let redis: TestRedis | null = null;
  let nats: NatsServer | null = null;
  const nodes: SpawnedServer[] = [];
  const stop = async (): Promise<void> => {
    const codes = await Promise.all(nodes.map((n) => n.stop()));
    for (const code of codes)
      if (code !== 0 && code !== null) process.stderr.write(`bench: a node exited with code ${code}\n`);
    await Promise.all([redis?.stop(), nats?.stop()]);
  };
  try {
    [redis, nats] = await Promise.all([startRedis(), startNats()]);
    const cluster = {
      redisUrl: redis.url,
      natsUrl: nats.url,
      advertiseHost: '127.0.0.1',
      relaySecret: randomBytes(16).toString('hex'),
    };
    const origin = await spawnServer(workDir, nodeArgs, { cluster }, pinCpu, {
      role: 'origin',
      nodeId: 'bench-origin',
    });
    nodes.push(origin);
    const edge = await spawnServer(workDir, nodeArgs, { cluster }, pinCpu, {
      role: 'edge',
      nodeId: 'bench-edge',
    });
    nodes.push(edge);
    // Ready = connected to Redis and NATS and registered: before that the edge cannot find owners.
    await Promise.all(nodes.map((n) => waitReady(n.api!)));
    return { origin, edge, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitReady(api: string): Promise<void> {
  const end = performance.now() + READY_TIMEOUT_MS;
  let last = '';
  while (performance.now() < end) {
    try {
      const r = await fetch(`${api}/readyz`, { signal: AbortSignal.timeout(2000) });
      last = `${r.status} ${await r.text()}`;
      if (r.ok) return;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${api}/readyz not ready within ${READY_TIMEOUT_MS} ms: ${last}`);
}
