import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect as natsConnect, type NatsConnection } from 'nats';
import { checkEvent, isSubject } from '../../../libs/cluster/event-schemas.ts';
import { RedisRegistry } from '../../../libs/cluster/redis-registry.ts';
import { Subject, type EventMap } from '../../../libs/cluster/types.ts';
import { parseVideoTag } from '../../../libs/flv/index.ts';
import { RtmpClient, type RtmpClientOptions } from '../../../libs/rtmp/client-connection.ts';
import type { StreamSummary } from '../../../libs/stream/hub.ts';
import { contractProblems } from './event-contract.ts';
import { publish, type Child } from './media.ts';
import { startNats, type NatsServer } from './nats.ts';
import { startRedis, type TestRedis } from './redis.ts';
import { getJson, sleep, startRole, waitFor, type SluiceProcess } from './sluice.ts';
import { SLUICE_BIN } from './build.ts';

// A whole cluster on loopback for end-to-end tests: a private redis-server and nats-server,
// origins and edges as separate `sluice` processes, optionally the scheduler, and a raw NATS
// subscriber that records (and schema-checks) every event the nodes emit.

/** Fast timings so leases, heartbeats and relay reconnects play out within seconds. */
export const TIMING = {
  leaseMs: 3000,
  refreshMs: 1000,
  heartbeatMs: 500,
  nodeTtlMs: 1500,
  reconnectMinMs: 100,
  reconnectMaxMs: 1000,
  ownerPollMs: 300,
  idleStopMs: 2000,
  waitPublisherMs: 15_000,
} as const;

const COMMON = {
  log: { level: 'info' },
  stream: { waitPublisherMs: TIMING.waitPublisherMs },
  limits: { handshakeTimeoutMs: 2000, idleTimeoutMs: 3000 },
  cluster: { heartbeatMs: TIMING.heartbeatMs, nodeTtlMs: TIMING.nodeTtlMs },
};
export const ORIGIN_CONFIG = {
  ...COMMON,
  ownership: { leaseMs: TIMING.leaseMs, refreshMs: TIMING.refreshMs },
};
export const EDGE_CONFIG = {
  ...COMMON,
  relay: {
    idleStopMs: TIMING.idleStopMs,
    reconnectMinMs: TIMING.reconnectMinMs,
    reconnectMaxMs: TIMING.reconnectMaxMs,
    ownerPollMs: TIMING.ownerPollMs,
  },
};

export interface ClusterOptions {
  origins: number;
  edges: number;
  scheduler?: boolean;
  /** Deep-merged over ORIGIN_CONFIG / EDGE_CONFIG. */
  originConfig?: object;
  edgeConfig?: object;
  /** Extra environment for every node. */
  env?: Record<string, string>;
}

export interface SchedulerProcess {
  proc: ChildProcess;
  /** http://127.0.0.1:PORT */
  url: string;
  logs: Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface Cluster {
  redis: TestRedis;
  nats: NatsServer;
  origins: SluiceProcess[];
  edges: SluiceProcess[];
  scheduler: SchedulerProcess | null;
  events: EventRecorder;
  /** A registry client of the test's own, for lookups. */
  registry: RedisRegistry;
  relaySecret: string;
  /** Every node started so far (origins, edges and those from spawn()). */
  nodes: SluiceProcess[];
  /** Starts one more node of this cluster (its config deep-merged over the role's). */
  spawn(role: 'origin' | 'edge', nodeId: string, opts?: SpawnOptions): Promise<SluiceProcess>;
  /** Kills these with everything else in stop(). */
  track(...c: Child[]): void;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  config?: object;
  env?: Record<string, string>;
}

type Json = Record<string, unknown>;

function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const bothObjects = [b, v].every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));
    out[k] = bothObjects ? deepMerge(b as Json, v as Json) : v;
  }
  return out;
}

// A failed test run must not leave nodes behind.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const [redis, nats] = await Promise.all([startRedis(), startNats()]);
  const relaySecret = randomBytes(16).toString('hex');
  const env = (nodeId: string): Record<string, string> => ({
    SLUICE_NODE_ID: nodeId,
    SLUICE_REDIS_URL: redis.url,
    SLUICE_NATS_URL: nats.url,
    SLUICE_ADVERTISE_HOST: '127.0.0.1',
    SLUICE_RELAY_SECRET: relaySecret,
    ...o.env,
  });
  const procs: SluiceProcess[] = [];
  const children: Child[] = [];
  const spawnNode = async (
    role: 'origin' | 'edge',
    nodeId: string,
    so: SpawnOptions = {},
  ): Promise<SluiceProcess> => {
    let cfg =
      role === 'origin'
        ? deepMerge(ORIGIN_CONFIG, (o.originConfig ?? {}) as Json)
        : deepMerge(EDGE_CONFIG, (o.edgeConfig ?? {}) as Json);
    cfg = deepMerge(cfg, (so.config ?? {}) as Json);
    const p = await startRole(role, cfg, { ...env(nodeId), ...so.env });
    live.add(p.proc);
    p.proc.once('exit', () => live.delete(p.proc));
    procs.push(p);
    return p;
  };
  const events = await EventRecorder.connect(nats.url);
  const registry = new RedisRegistry({ url: redis.url });
  let scheduler: SchedulerProcess | null = null;
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await Promise.all([...procs.map((p) => p.stop('SIGKILL')), scheduler?.stop('SIGKILL')]);
    await Promise.allSettled([events.close(), registry.close()]);
    await Promise.all([redis.stop(), nats.stop()]);
  };
  try {
    const ids = (prefix: string, n: number): string[] =>
      Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
    // Settled, not raced: a node still starting when another failed must not outlive stop().
    const sched = (o.scheduler ? startScheduler(redis.url, nats.url) : Promise.resolve(null)).then(
      (p) => (scheduler = p),
    );
    const started = await Promise.allSettled([
      ...ids('origin', o.origins).map((id) => spawnNode('origin', id)),
      ...ids('edge', o.edges).map((id) => spawnNode('edge', id)),
    ]);
    const schedStarted = await Promise.allSettled([sched]);
    const failed = [...started, ...schedStarted].find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const nodes = started.map((r) => (r as PromiseFulfilledResult<SluiceProcess>).value);
    const origins = nodes.slice(0, o.origins);
    const edges = nodes.slice(o.origins);
    const all = [...ids('origin', o.origins), ...ids('edge', o.edges)];
    await waitFor(
      async () => {
        const nodes = await registry.listNodes().catch(() => []);
        return all.every((id) => nodes.some((n) => n.nodeId === id));
      },
      10_000,
      'every node registered',
    );
    // The scheduler learns of a node from its heartbeats (its view is fed by NATS), one
    // heartbeat after the node registered: tests start once it has heard every node.
    if (scheduler) {
      const url = (scheduler as SchedulerProcess).url;
      await waitFor(
        async () => {
          const r = await fetch(`${url}/api/v1/nodes?limit=1000`).catch(() => null);
          const body = r?.ok
            ? ((await r.json()) as { nodes: { nodeId: string; heardMsAgo: number | null }[] })
            : null;
          return all.every((id) => body?.nodes.some((n) => n.nodeId === id && n.heardMsAgo !== null));
        },
        10_000,
        'the scheduler to hear every node',
      );
    }
    return {
      redis,
      nats,
      origins,
      edges,
      scheduler,
      events,
      registry,
      relaySecret,
      nodes: procs,
      spawn: spawnNode,
      track: (...c) => children.push(...c),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** `sluice scheduler` on an ephemeral loopback port; resolves on its "scheduler listening" line. */
export async function startScheduler(
  redisUrl: string,
  natsUrl: string,
  /** Deep-merged over the test scheduler config; `nodeId` names it. */
  config: Json = {},
): Promise<SchedulerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sched-'));
  const file = join(dir, 'scheduler.json');
  // Health follows the nodes' heartbeat; a short cache keeps answers fresh in tests.
  const base = { cluster: { heartbeatMs: TIMING.heartbeatMs, cacheMs: 100 } };
  writeFileSync(file, JSON.stringify(deepMerge(base, config)));
  const proc = spawn(process.execPath, [SLUICE_BIN, 'scheduler', '--config', file], {
    env: {
      ...process.env,
      SLUICE_SCHEDULER_LISTEN: '127.0.0.1:0',
      SLUICE_REDIS_URL: redisUrl,
      SLUICE_NATS_URL: natsUrl,
      SLUICE_NODE_ID: typeof config.nodeId === 'string' ? config.nodeId : 'scheduler-1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) =>
    proc.once('exit', (code) => {
      live.delete(proc);
      r(code);
    }),
  );
  const listen = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        logs.push(rec);
        if (rec.msg === 'scheduler listening') resolve(String(rec.listen));
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`scheduler exited (${code}) before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`scheduler did not start in 20 s: ${stderr}`)), 20_000).unref();
  });
  return {
    proc,
    url: `http://127.0.0.1:${listen.slice(listen.lastIndexOf(':') + 1)}`,
    logs,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

// ---- Events ----

export interface RecordedEvent {
  subject: string;
  data: unknown;
  atMs: number;
  /** Schema violations; empty when valid. */
  problems: string[];
}

const EVENT_FAMILIES = [
  'sluice.v1.stream.>',
  'sluice.v1.session.>',
  'sluice.v1.relay.>',
  'sluice.v1.node.>',
  'sluice.v1.record.>',
];

/** Every event on the wire, each checked against the contract and its subject's JSON Schema. */
export class EventRecorder {
  readonly all: RecordedEvent[] = [];
  private readonly nc: NatsConnection;

  private constructor(nc: NatsConnection) {
    this.nc = nc;
    // The event subjects only, never sluice.v1.control.>: a listener there would answer for
    // every node's liveness ("no responders" becomes a timeout) and change what is tested.
    for (const family of EVENT_FAMILIES) {
      nc.subscribe(family, {
        callback: (err, msg) => {
          if (err) return;
          this.all.push({ subject: msg.subject, atMs: Date.now(), ...check(msg.subject, msg.data) });
        },
      });
    }
  }

  static async connect(url: string): Promise<EventRecorder> {
    const nc = await natsConnect({
      servers: url,
      name: 'cluster-test-recorder',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      pingInterval: 1000,
    });
    return new EventRecorder(nc);
  }

  /** Index to pass to `of`/`waitFor` to see only what comes after now. */
  mark(): number {
    return this.all.length;
  }

  /** Valid events of `subject` (from index `since`). */
  of<S extends Subject>(subject: S, since = 0): EventMap[S][] {
    return this.all
      .slice(since)
      .filter((e) => e.subject === subject && e.problems.length === 0)
      .map((e) => e.data as EventMap[S]);
  }

  invalid(): RecordedEvent[] {
    return this.all.filter((e) => e.problems.length > 0);
  }

  waitFor<S extends Subject>(
    subject: S,
    pred: (e: EventMap[S]) => boolean,
    timeoutMs: number,
    since = 0,
  ): Promise<EventMap[S]> {
    return waitFor(() => this.of(subject, since).find(pred), timeoutMs, `a ${subject} event`);
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

/**
 * Checked twice, on the wire: by the hand-written contract (helpers/event-contract.ts, which
 * does not share the senders' schemas and so catches a bug they agree on) and by the JSON
 * Schema (which catches the schemas drifting from the contract).
 */
function check(subject: string, data: Uint8Array): { data: unknown; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data).toString());
  } catch {
    return { data: null, problems: ['not JSON'] };
  }
  const problems = contractProblems(subject, value);
  const r = isSubject(subject) ? checkEvent(subject, value) : { ok: false as const, problems: [] };
  if (!r.ok) problems.push(...r.problems.map((p) => `schema: ${p}`));
  return { data: value, problems };
}

/**
 * Senders validate against the schemas and drop what fails (emit() logs it and goes on), so an
 * invalid event never reaches the wire: these log lines are how a sender bug shows.
 */
export function unsentEvents(nodes: { logs: Json[] }[]): Json[] {
  return nodes.flatMap((n) =>
    n.logs.filter((l) => l.msg === 'event not published (invalid against its schema)'),
  );
}

/**
 * The events of a cluster test were all sound: none on the wire broke the contract or its
 * schema, no node dropped one as invalid before sending, and every node was heard (so an empty
 * recording cannot pass for a clean one).
 */
export function assertEventsValid(c: Cluster): void {
  assert.deepEqual(c.events.invalid(), [], 'events on the wire that break the contract');
  assert.deepEqual(unsentEvents(c.nodes), [], 'events a node dropped as invalid');
  const heard = new Set(c.events.of(Subject.NodeHeartbeat).map((e) => e.nodeId));
  for (const n of [...c.origins, ...c.edges]) {
    const id = String(n.logs.find((l) => typeof l.node === 'string')?.node);
    assert.ok(heard.has(id), `heartbeats from ${id} on the wire`);
  }
}

// ---- Publishing and watching nodes ----

/** The node's own view of `key` (its /api/v1/streams entry). */
export async function nodeStream(node: SluiceProcess, key: string): Promise<StreamSummary | undefined> {
  const j = await getJson<{ streams: StreamSummary[] }>(`${node.api}/api/v1/streams`);
  return j.streams.find((s) => s.key === key);
}

/** Log records of `node` from index `since` with this message (and stream key, if given). */
export const logLines = (node: { logs: Json[] }, msg: string, key?: string, since = 0): Json[] =>
  node.logs.slice(since).filter((l) => l.msg === msg && (key === undefined || l.stream === key));

/**
 * `ffmpeg -re -stream_loop -1 … -f flv` to `origin`, resolved once the origin logs the publish
 * as started; rejects with ffmpeg's stderr when ffmpeg exits first (the publish was refused).
 */
export async function publishTo(
  origin: SluiceProcess,
  file: string,
  key: string,
  timeoutMs = 8000,
): Promise<Child> {
  const since = origin.logs.length;
  const pub = publish(file, `${origin.rtmp}/${key}`, { loop: true });
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (logLines(origin, 'publish started', key, since).length > 0) return pub;
    if (pub.proc.exitCode !== null || pub.proc.signalCode !== null) {
      const code = await pub.exited;
      throw new Error(`publish of ${key} refused (ffmpeg exit ${code}): ${pub.stderr().trim()}`);
    }
    if (Date.now() > end) {
      await pub.kill();
      throw new Error(`publish of ${key} not started within ${timeoutMs} ms: ${pub.stderr().trim()}`);
    }
    await sleep(20);
  }
}

/** publishTo, retried every `retryMs` until accepted; resolves with the publisher and the attempts made. */
export async function publishUntilAccepted(
  origin: SluiceProcess,
  file: string,
  key: string,
  o: { retryMs: number; timeoutMs: number },
): Promise<{ pub: Child; attempts: number }> {
  const end = Date.now() + o.timeoutMs;
  for (let attempts = 1; ; attempts++) {
    try {
      return { pub: await publishTo(origin, file, key, Math.max(1000, end - Date.now())), attempts };
    } catch (e) {
      if (Date.now() + o.retryMs > end) throw e;
      await sleep(o.retryMs);
    }
  }
}

// ---- An in-process RTMP viewer ----

export interface RtmpFrame {
  typeId: number;
  timestamp: number;
  key: boolean;
  sequenceHeader: boolean;
  atMs: number;
  payload: Buffer;
}

/** An RtmpClient playing `url`, keeping every audio/video message with its arrival time. */
export class RtmpViewer {
  readonly frames: RtmpFrame[] = [];
  readonly client: RtmpClient;
  closed = false;

  private constructor(client: RtmpClient) {
    this.client = client;
    client.onClose = () => (this.closed = true);
    client.onMedia = (msg) => {
      if (msg.typeId !== 8 && msg.typeId !== 9) return;
      // Video: the FLV video tag header; audio: AACPacketType 0 is the sequence header.
      const v = msg.typeId === 9 ? parseVideoTag(msg.payload) : null;
      const key = v?.isKeyFrame ?? false;
      const sequenceHeader = v ? v.isSequenceHeader : msg.payload.length > 1 && msg.payload[1] === 0;
      this.frames.push({
        typeId: msg.typeId,
        timestamp: msg.timestamp,
        key,
        sequenceHeader,
        atMs: Date.now(),
        payload: msg.payload,
      });
    };
  }

  /** Connects and plays; rejects with the server's refusal (RtmpClientError) if there is one. */
  static async play(url: string, opts: RtmpClientOptions = {}): Promise<RtmpViewer> {
    const client = await RtmpClient.connect(url, { timeoutMs: 5000, ...opts });
    const v = new RtmpViewer(client);
    try {
      await client.play();
    } catch (e) {
      client.close();
      throw e;
    }
    return v;
  }

  /** Video frames (not sequence headers). */
  videoFrames(): RtmpFrame[] {
    return this.frames.filter((f) => f.typeId === 9 && !f.sequenceHeader);
  }

  /** First place a timestamp goes back within one media type, or null. */
  timestampRegression(): string | null {
    const last = new Map<number, number>();
    for (const f of this.frames) {
      const prev = last.get(f.typeId);
      if (prev !== undefined && f.timestamp < prev) return `type ${f.typeId}: ${prev} -> ${f.timestamp}`;
      last.set(f.typeId, f.timestamp);
    }
    return null;
  }

  close(): void {
    this.client.close();
  }
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
