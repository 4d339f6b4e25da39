import type { RedisRegistry } from '../../libs/cluster/redis-registry.ts';

export interface ZeroCheck {
  reached: boolean;
  /** ms until everything was zero, or the timeout. */
  afterMs: number;
  /** What was still not zero at the deadline (empty when reached). */
  leftovers: string[];
}

export interface Endpoints {
  nodes: { name: string; api: string }[];
  scheduler: string;
}

const TIMEOUT_MS = 3000;
const POLL_MS = 500;

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return (await r.json()) as T;
}

interface NodeState {
  sessions: Record<string, number>;
  streams: { key: string; publisher: unknown; subscribers: number }[];
}

async function nodeState(api: string): Promise<NodeState> {
  const [st, sl] = await Promise.all([
    getJson<{ sessions?: Record<string, number> }>(`${api}/api/v1/stats`),
    getJson<{ streams: NodeState['streams'] }>(`${api}/api/v1/streams`),
  ]);
  return { sessions: st.sessions ?? {}, streams: sl.streams };
}

interface SchedulerState {
  nodes: { nodeId: string; load: Record<string, number> }[];
  streams: { key: string; owner: { viewers: number }; edges: { nodeId: string; viewers: number }[] }[];
  total: number;
}

async function schedulerState(url: string): Promise<SchedulerState> {
  const [n, s] = await Promise.all([
    getJson<{ nodes: SchedulerState['nodes'] }>(`${url}/api/v1/nodes?limit=1000`),
    getJson<{ streams: SchedulerState['streams']; total: number }>(`${url}/api/v1/streams?limit=1000`),
  ]);
  return { nodes: n.nodes, streams: s.streams, total: s.total };
}

/** Polls `check` (what is not yet as it should be) until it returns nothing or time runs out. */
async function until(check: () => Promise<string[]>, timeoutMs: number): Promise<ZeroCheck> {
  const t0 = performance.now();
  for (;;) {
    let left: string[];
    try {
      left = await check();
    } catch (e) {
      left = [`API unanswered: ${(e as Error).message}`];
    }
    const afterMs = Math.round(performance.now() - t0);
    if (left.length === 0) return { reached: true, afterMs, leftovers: [] };
    if (afterMs > timeoutMs) return { reached: false, afterMs, leftovers: left };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const nonZero = (where: string, counts: Record<string, number>, kinds: string[]): string[] =>
  kinds.filter((k) => (counts[k] ?? 0) !== 0).map((k) => `${where} ${k}=${counts[k]}`);

/**
 * Every viewer has left: no node may count a player (or, once edges stopped their idle relays,
 * a relay pull) as a session or as a viewer in its hub, and the scheduler must agree (heartbeat
 * load and presence).
 */
export function waitSessionsZero(e: Endpoints, timeoutMs: number): Promise<ZeroCheck> {
  return until(async () => {
    const left: string[] = [];
    for (const n of e.nodes) {
      const st = await nodeState(n.api);
      left.push(...nonZero(`${n.name} /api/v1/stats sessions.`, st.sessions, ['player', 'relay']));
      for (const s of st.streams)
        if (s.subscribers !== 0) left.push(`${n.name} /api/v1/streams ${s.key} subscribers=${s.subscribers}`);
    }
    const sc = await schedulerState(e.scheduler);
    for (const n of sc.nodes)
      left.push(...nonZero(`scheduler ${n.nodeId} load.`, n.load, ['players', 'relays']));
    for (const s of sc.streams) {
      if (s.owner.viewers !== 0) left.push(`scheduler ${s.key} owner.viewers=${s.owner.viewers}`);
      for (const ed of s.edges)
        if (ed.viewers !== 0) left.push(`scheduler ${s.key} edge ${ed.nodeId} viewers=${ed.viewers}`);
    }
    return left;
  }, timeoutMs);
}

/**
 * Every publisher has stopped: no stream, publisher or relay session, or claim may remain, in the
 * nodes, Redis or the scheduler. (Players were judged by waitSessionsZero; a leak there is not
 * counted twice.)
 */
export function waitStreamsGone(
  e: Endpoints,
  registry: RedisRegistry,
  keys: string[],
  timeoutMs: number,
): Promise<ZeroCheck> {
  return until(async () => {
    const left: string[] = [];
    for (const n of e.nodes) {
      const st = await nodeState(n.api);
      left.push(...nonZero(`${n.name} /api/v1/stats sessions.`, st.sessions, ['publisher', 'relay']));
      for (const s of st.streams) left.push(`${n.name} /api/v1/streams still lists ${s.key}`);
    }
    for (const k of keys) {
      const owner = await registry.lookup(k);
      if (owner) left.push(`redis: ${k} still claimed by ${owner.nodeId}`);
    }
    const sc = await schedulerState(e.scheduler);
    if (sc.total !== 0) left.push(`scheduler /api/v1/streams total=${sc.total}`);
    for (const n of sc.nodes)
      left.push(...nonZero(`scheduler ${n.nodeId} load.`, n.load, ['publishers', 'relays']));
    return left;
  }, timeoutMs);
}
