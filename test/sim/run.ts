import { execFileSync } from 'node:child_process';
import { availableParallelism, setPriority } from 'node:os';
import { Redis } from 'ioredis';
import type { FakeNode } from '../integration/helpers/fake-node.ts';
import { readAll, viewDrift } from './checks.ts';
import { cpuPercent, natsInMsgs, percentile, redisCommands, sampleProc } from './probes.ts';
import {
  publishOn,
  startInfra,
  startNodes,
  TIMING,
  withOwnership,
  type Infra,
  type SimOrigin,
} from './sim-cluster.ts';
import { LoadClient } from './client.ts';
import { popularity, prng, type Viewer } from './viewers.ts';

// `npm run sim`: the scheduler at cluster scale on one machine (issue #6). 50 origins hold
// 10,000 streams; edges join in steps of 100, 300 and 1,000; at each step viewers are routed
// through a real `sluice scheduler` over HTTP keep-alive, and each routed viewer is served by
// the edge it was sent to (its presence changes, as a real edge's would). Reported per step:
// route latency as the client sees it, the scheduler's CPU and RSS, and the Redis commands and
// NATS messages per second per node. Everything is started here and stopped at the end.
// SIM_SCHEDULER_NODE_OPTIONS passes flags to the scheduler process (e.g. `--import` a profiler).

const ORIGINS = 50;
const STREAMS = 10_000;
const STEPS = [
  { edges: 100, viewers: 30_000 },
  { edges: 300, viewers: 30_000 },
  { edges: 1000, viewers: 100_000 },
];
/** Requests in flight at most (a handful of busy load balancers, not a flood). */
const CONCURRENCY = 8;
/**
 * Viewers arriving per second: a busy evening on a large platform. More would measure this
 * machine rather than the scheduler: the load client is a Node process on the same two cores
 * (on an idle box, client and scheduler alone reach p99 ~1 ms at 3,000/s, ~0.7 ms at 2,000/s).
 */
const RATE_PER_SEC = 2000;
/** Requests before each step's timed ones (one second's worth). */
const WARMUP = RATE_PER_SEC;
/** The whole run gives up after this. */
const DEADLINE_MS = 6 * 60_000;
const PROTOCOLS = ['flv', 'flv', 'flv', 'flv', 'flv', 'flv', 'flv', 'rtmp', 'rtmp', 'ws-flv'];

interface Row {
  edges: number;
  nodes: number;
  viewers: number;
  routesPerSec: number;
  p50: number;
  p99: number;
  max: number;
  /** The scheduler's own event-loop delay p99 over its last 10 s window (its share of the tail). */
  loopP99: number;
  errors: number;
  relayingShare: number;
  cpu: number;
  rssMb: number;
  redisOpsPerSec: number;
  natsMsgsPerSec: number;
  /** Nodes whose health or stream count in the view differed from the node's own, a heartbeat after routing. */
  drift: number;
  /** Reading all 10,000 streams in pages of 1,000. */
  listMs: number;
}

const BACKGROUND_NICE = 19;
/** Cores this process may use at start (before it pins itself: the count follows affinity). */
const CORES = availableParallelism();

/**
 * Gives the scheduler a core of its own, as it would have in a deployment: the simulation (and
 * every process it starts: nodes, Redis, NATS, the load client) runs on the last core, the
 * scheduler alone on the first. Without taskset or a second core, everything shares.
 */
function pin(pid: number, cpu: number, what: string): void {
  if (CORES < 2) return log(`one core: ${what} shares it with the simulated cluster`);
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  } catch {
    log(`could not pin ${what} to core ${cpu} (no taskset?): latencies include contention`);
  }
}

/** Back to normal priority (root only); without it the numbers include CPU contention with the nodes. */
function foreground(pid: number, what: string): void {
  try {
    setPriority(pid, 0);
  } catch {
    log(
      `could not give ${what} normal priority (not root): latencies include contention with the simulated nodes`,
    );
  }
}

const log = (msg: string): void =>
  void process.stderr.write(`[sim ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`);

async function waitFor<T>(fn: () => Promise<T | null | false>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function schedulerTotals(url: string): Promise<{ nodes: number; streams: number }> {
  const get = async (p: string): Promise<number> =>
    ((await (await fetch(`${url}${p}?limit=1`)).json()) as { total: number }).total;
  return { nodes: await get('/api/v1/nodes'), streams: await get('/api/v1/streams') };
}

async function main(): Promise<void> {
  const started = Date.now();
  const guard = setTimeout(() => {
    log('deadline passed; giving up');
    process.exit(2);
  }, DEADLINE_MS);
  guard.unref();
  // The simulated nodes, Redis and NATS stand for other machines: on this one they yield the
  // CPU to what is measured (the scheduler and the load client, raised back to 0 below).
  setPriority(BACKGROUND_NICE);
  pin(process.pid, CORES - 1, 'the simulation');
  log('starting redis-server, nats-server and the scheduler');
  const infra = await startInfra();
  foreground(infra.scheduler.proc.pid!, 'the scheduler');
  pin(infra.scheduler.proc.pid!, 0, 'the scheduler');
  const nodes: FakeNode[] = [];
  const cleanup = async (): Promise<void> => {
    log(`stopping ${nodes.length} nodes and the servers`);
    await Promise.allSettled(nodes.map((n) => n.crash()));
    await infra.stop();
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const rows = await simulate(infra, nodes);
    process.stdout.write(table(rows));
    log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await cleanup();
  }
}

async function simulate(infra: Infra, nodes: FakeNode[]): Promise<Row[]> {
  const url = infra.scheduler.url;
  log(`starting ${ORIGINS} origins`);
  const originNodes = await startNodes(
    infra,
    Array.from({ length: ORIGINS }, (_, i) => `origin-${String(i + 1).padStart(2, '0')}`),
    'origin',
  );
  nodes.push(...originNodes);
  // Origins refresh their leases out of phase, like independent processes.
  const origins: SimOrigin[] = await Promise.all(
    originNodes.map(async (n) => {
      await new Promise((r) => setTimeout(r, Math.random() * TIMING.refreshMs));
      return withOwnership(n);
    }),
  );
  log(`publishing ${STREAMS} streams (claims in Redis, stream.published on NATS)`);
  const owners: { origin: SimOrigin; epoch: number }[] = [];
  for (let i = 0; i < STREAMS; i += 500) {
    const batch = Array.from({ length: Math.min(500, STREAMS - i) }, (_, j) => i + j);
    const epochs = await Promise.all(batch.map((n) => publishOn(origins[n % ORIGINS]!, `live/s${n}`, n)));
    batch.forEach((n, j) => (owners[n] = { origin: origins[n % ORIGINS]!, epoch: epochs[j]! }));
  }
  await waitFor(
    async () => (await schedulerTotals(url)).streams === STREAMS || null,
    30_000,
    'the scheduler to list every stream',
  );

  const edges: FakeNode[] = [];
  const edgeById = new Map<string, FakeNode>();
  const rows: Row[] = [];
  const rand = prng(6);
  const pick = popularity(STREAMS);
  const redis = new Redis(infra.redis.url);
  const client = new LoadClient();
  foreground(client.pid, 'the load client');
  pin(client.pid, 0, 'the load client');
  try {
    for (const step of STEPS) {
      const ids = Array.from(
        { length: step.edges - edges.length },
        (_, i) => `edge-${String(edges.length + i + 1).padStart(4, '0')}`,
      );
      log(`starting ${ids.length} edges (${step.edges} in all)`);
      const added = await startNodes(infra, ids, 'edge');
      nodes.push(...added);
      for (const e of added) {
        edges.push(e);
        edgeById.set(e.nodeId, e);
      }
      // The viewers of the previous step leave; relays stop.
      for (const e of edges) for (const k of e.streamKeys()) e.setStream(k, null);
      for (const [n, o] of owners.entries()) {
        o.origin.node.setStream(`live/s${n}`, { viewers: 0, relaying: false, publishing: true });
      }
      await waitFor(
        async () => (await schedulerTotals(url)).nodes === step.edges + ORIGINS || null,
        30_000,
        'every node in the view',
      );
      // Two heartbeats: every node heard, the presence of the previous step gone.
      await new Promise((r) => setTimeout(r, 2 * TIMING.heartbeatMs + 500));

      const viewer = (): Viewer => ({
        key: `live/s${pick(rand())}`,
        protocol: PROTOCOLS[Math.floor(rand() * PROTOCOLS.length)]!,
      });
      const warmup = Array.from({ length: WARMUP }, viewer);
      const viewers = Array.from({ length: step.viewers }, viewer);
      const routed = (v: Viewer, edgeId: string): void => {
        const edge = edgeById.get(edgeId);
        const n = Number(v.key.slice('live/s'.length));
        const owner = owners[n];
        if (!edge || !owner) return;
        const cur = edge.stream(v.key);
        if (!cur) {
          edge.relay(v.key, owner.origin.node.nodeId, owner.epoch, 1);
          const o = owner.origin.node.stream(v.key);
          if (o) owner.origin.node.setStream(v.key, { ...o, viewers: o.viewers + 1 });
        } else {
          edge.setStream(v.key, { ...cur, viewers: cur.viewers + 1 });
        }
      };
      log(`routing ${step.viewers} viewers, ${RATE_PER_SEC}/s, at most ${CONCURRENCY} requests in flight`);
      const pid = infra.scheduler.proc.pid!;
      const before = {
        proc: sampleProc(pid),
        redis: await redisCommands(redis),
        nats: await natsInMsgs(infra.natsMonitorPort),
      };
      const run = await client.run(
        { url, warmup, viewers, concurrency: CONCURRENCY, ratePerSec: RATE_PER_SEC },
        (i, edgeId) => routed(viewers[i]!, edgeId),
      );
      const loopP99 = await loopDelayP99(url);
      const after = {
        proc: sampleProc(pid),
        redis: await redisCommands(redis),
        nats: await natsInMsgs(infra.natsMonitorPort),
      };
      const seconds = (after.proc.atMs - before.proc.atMs) / 1000;
      const nodeCount = step.edges + ORIGINS;
      rows.push({
        edges: step.edges,
        nodes: nodeCount,
        viewers: step.viewers,
        routesPerSec: step.viewers / run.seconds,
        p50: percentile(run.latenciesMs, 50),
        p99: percentile(run.latenciesMs, 99),
        max: run.latenciesMs[run.latenciesMs.length - 1] ?? NaN,
        loopP99,
        errors: run.errors,
        relayingShare: run.relaying / step.viewers,
        cpu: cpuPercent(before.proc, after.proc),
        rssMb: after.proc.rssBytes / 2 ** 20,
        redisOpsPerSec: (after.redis - before.redis) / seconds / nodeCount,
        natsMsgsPerSec: (after.nats - before.nats) / seconds / nodeCount,
        ...(await settledChecks(url, nodes)),
      });
      log(`step done: ${JSON.stringify(rows.at(-1))}`);
    }
  } finally {
    redis.disconnect();
    client.close();
  }
  return rows;
}

/** The scheduler's event-loop delay p99 (ms) from its /metrics. */
async function loopDelayP99(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^sluice_event_loop_delay_p99_seconds (\S+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : NaN;
}

/** After the presence of the last viewers has had a heartbeat (and a bit) to reach the scheduler. */
async function settledChecks(
  url: string,
  nodes: readonly FakeNode[],
): Promise<{ drift: number; listMs: number }> {
  await new Promise((r) => setTimeout(r, TIMING.heartbeatMs + 1000));
  const drift = await viewDrift(url, nodes);
  const list = await readAll(url, 'streams');
  return { drift, listMs: list.ms };
}

function table(rows: Row[]): string {
  const f = (x: number, d = 2): string => x.toFixed(d);
  const lines = [
    '| edges (+50 origins) | viewers routed | routes/s | route p50 | route p99 | scheduler loop delay p99 | scheduler CPU | scheduler RSS | Redis ops/s per node (all) | NATS msgs/s per node (all) | view drift (nodes) | 10k streams, 10 pages |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.edges} | ${r.viewers.toLocaleString('en-US')}${r.errors ? ` (${r.errors} errors)` : ''} | ${f(r.routesPerSec, 0)} | ${f(r.p50)} ms | ${f(r.p99)} ms | ${f(r.loopP99)} ms | ${f(r.cpu, 0)} % | ${f(r.rssMb, 0)} MB | ${f(r.redisOpsPerSec, 1)} (${f(r.redisOpsPerSec * r.nodes, 0)}) | ${f(r.natsMsgsPerSec, 2)} (${f(r.natsMsgsPerSec * r.nodes, 0)}) | ${r.drift} | ${f(r.listMs, 0)} ms |`,
    ),
  ];
  return lines.join('\n') + '\n';
}

main().catch((err: unknown) => {
  process.stderr.write(`sim failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
