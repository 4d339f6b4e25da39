import type { ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { HeapAfterGc } from '../../libs/metrics/heap-after-gc.ts';
import { hostCpuTicks, procProbe } from '../bench/sampler.ts';

/** One reading of one process. Null where the process did not answer. */
export interface ProcessSample {
  /** Seconds since the load started. */
  t: number;
  /** Taken during the load, or at the end (viewers gone, publishers stopping). */
  phase: Phase;
  ok: boolean;
  rssBytes: number | null;
  heapUsedBytes: number | null;
  /** V8 heap right after the last full GC (null before the first one). */
  heapAfterGcBytes: number | null;
  loopP99Ms: number | null;
  cpuPercent: number | null;
  uptimeS: number | null;
  /** Media nodes: viewers in the hub (on origins these are the edges' relay pulls). */
  viewers?: number;
  streams?: number;
  /** Streams with a publisher (on edges: a live relay). */
  live?: number;
  /** Sessions by kind as the node counts them for its load reports. */
  sessions?: Record<string, number>;
}

export const Phase = { Load: 'load', End: 'end' } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** What the scheduler's view says, per sample. */
export interface SchedulerViewSample {
  t: number;
  ok: boolean;
  /** Per node: load from its heartbeats, and health. */
  nodes: Record<string, { players: number; publishers: number; relays: number; healthy: boolean }>;
  streams: number;
  /** Viewers the view counts on edges (presence), summed over streams. */
  edgeViewers: number;
}

export interface LoadSample {
  t: number;
  phase: Phase;
  viewersConnected: number;
  hostCpuPercent: number | null;
}

export interface Restart {
  process: string;
  atS: number;
  how: string;
}

export interface MediaTarget {
  name: string;
  api: string;
  proc: ChildProcess;
}

const API_TIMEOUT_MS = 3000;

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(API_TIMEOUT_MS) });
  if (!r.ok) throw new Error(`HTTP ${r.status} from ${url}`);
  return (await r.json()) as T;
}

interface StatsBody {
  uptimeMs: number;
  memory: { rssBytes: number; heapUsedBytes: number };
  cpu: { userMicros: number; systemMicros: number };
  sessions?: Record<string, number>;
  gauges?: Record<string, number>;
  counters: Record<string, number>;
}

interface StreamsBody {
  streams: { key: string; publisher: unknown; subscribers: number }[];
}

/** `sluice_<name> <value>` lines of a Prometheus text, without labels. */
function gauges(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^sluice_(\w+) (\S+)$/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

/**
 * Reads every Sluice process every few seconds: memory, event-loop delay p99, CPU, uptime and
 * session counts from the media nodes' API and the scheduler's /metrics and listings, plus the
 * load generator itself. Notices restarts (a process exits, or its uptime goes back).
 */
export class Sampler {
  readonly series = new Map<string, ProcessSample[]>();
  readonly schedulerView: SchedulerViewSample[] = [];
  readonly load: LoadSample[] = [];
  readonly restarts: Restart[] = [];
  readonly apiFailures = new Map<string, number>();
  /** Each media node's counters at its latest answer. */
  readonly counters = new Map<string, Record<string, number>>();
  schedulerCounters = new Map<string, number>();
  private readonly t0 = performance.now();
  private readonly media: MediaTarget[];
  private readonly scheduler: { url: string; proc: ChildProcess };
  private readonly viewersConnected: () => number;
  private readonly prevCpu = new Map<string, { atMs: number; micros: number }>();
  private readonly lastUptime = new Map<string, number>();
  private readonly ownLoop = monitorEventLoopDelay({ resolution: 10 });
  private readonly ownHeap = new HeapAfterGc();
  private prevHost = hostCpuTicks();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private watching = true;
  private phase: Phase = Phase.Load;

  constructor(o: {
    media: MediaTarget[];
    scheduler: { url: string; proc: ChildProcess };
    viewersConnected: () => number;
  }) {
    this.media = o.media;
    this.scheduler = o.scheduler;
    this.viewersConnected = o.viewersConnected;
    this.ownLoop.enable();
    const watch = (name: string, proc: ChildProcess): void => {
      proc.once('exit', (code, signal) => {
        if (this.watching)
          this.restarts.push({ process: name, atS: this.now(), how: `exited (${signal ?? code})` });
      });
    };
    for (const m of this.media) watch(m.name, m.proc);
    watch('scheduler', this.scheduler.proc);
  }

  /** Seconds since the sampler was made (the load start). */
  now(): number {
    return Math.round((performance.now() - this.t0) / 100) / 10;
  }

  start(everyMs: number): void {
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.sampleAll());
    }, everyMs);
  }

  /** Samples from now on belong to the end of the run, not to the load. */
  endLoad(): void {
    this.phase = Phase.End;
  }

  /** Takes one last sample and stops; exits after this are ours (the teardown), not restarts. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.sampleAll();
    this.watching = false;
    this.ownLoop.disable();
    this.ownHeap.stop();
  }

  async sampleAll(): Promise<void> {
    const at = { t: this.now(), phase: this.phase };
    const viewers = this.viewersConnected();
    await Promise.all([...this.media.map((m) => this.sampleNode(m, at)), this.sampleScheduler(at)]);
    this.sampleSelf(at, viewers);
  }

  private push(name: string, s: ProcessSample): void {
    const list = this.series.get(name) ?? [];
    list.push(s);
    this.series.set(name, list);
    if (!s.ok) this.apiFailures.set(name, (this.apiFailures.get(name) ?? 0) + 1);
    if (s.uptimeS !== null) {
      const prev = this.lastUptime.get(name);
      if (prev !== undefined && s.uptimeS + 1 < prev)
        this.restarts.push({
          process: name,
          atS: s.t,
          how: `uptime went back from ${prev} s to ${s.uptimeS} s`,
        });
      this.lastUptime.set(name, s.uptimeS);
    }
  }

  private cpuPercent(name: string, micros: number): number | null {
    const atMs = performance.now();
    const prev = this.prevCpu.get(name);
    this.prevCpu.set(name, { atMs, micros });
    if (!prev || atMs <= prev.atMs) return null;
    return Math.round(((micros - prev.micros) / ((atMs - prev.atMs) * 1000)) * 1000) / 10;
  }

  private async sampleNode(m: MediaTarget, at: At): Promise<void> {
    try {
      const [st, sl] = await Promise.all([
        getJson<StatsBody>(`${m.api}/api/v1/stats`),
        getJson<StreamsBody>(`${m.api}/api/v1/streams`),
      ]);
      this.counters.set(m.name, st.counters);
      this.push(m.name, {
        ...at,
        ok: true,
        rssBytes: st.memory.rssBytes,
        heapUsedBytes: st.memory.heapUsedBytes,
        heapAfterGcBytes: st.gauges?.process_heap_after_gc_bytes || null,
        loopP99Ms: st.gauges?.event_loop_delay_p99_ms ?? null,
        cpuPercent: this.cpuPercent(m.name, st.cpu.userMicros + st.cpu.systemMicros),
        uptimeS: Math.round(st.uptimeMs / 100) / 10,
        viewers: sl.streams.reduce((a, s) => a + s.subscribers, 0),
        streams: sl.streams.length,
        live: sl.streams.filter((s) => s.publisher !== null).length,
        sessions: st.sessions ?? {},
      });
    } catch {
      this.push(m.name, failed(at));
    }
  }

  private async sampleScheduler(at: At): Promise<void> {
    const url = this.scheduler.url;
    try {
      const [metricsText, nodes, streams] = await Promise.all([
        fetch(`${url}/metrics`, { signal: AbortSignal.timeout(API_TIMEOUT_MS) }).then((r) => r.text()),
        getJson<{ nodes: { nodeId: string; healthy: boolean; load: Record<string, number> }[] }>(
          `${url}/api/v1/nodes?limit=1000`,
        ),
        getJson<{ streams: { edges: { viewers: number }[] }[]; total: number }>(
          `${url}/api/v1/streams?limit=1000`,
        ),
      ]);
      const g = gauges(metricsText);
      this.schedulerCounters = g;
      const pid = this.scheduler.proc.pid;
      const cpu = pid === undefined ? null : (await procProbe(pid).read()).cpuMicros;
      this.push('scheduler', {
        ...at,
        ok: true,
        rssBytes: g.get('process_resident_memory_bytes') ?? null,
        heapUsedBytes: g.get('process_heap_used_bytes') ?? null,
        heapAfterGcBytes: g.get('process_heap_after_gc_bytes') || null,
        loopP99Ms: ((s) => (s === undefined ? null : s * 1000))(g.get('event_loop_delay_p99_seconds')),
        cpuPercent: cpu === null ? null : this.cpuPercent('scheduler', cpu),
        uptimeS: g.get('process_uptime_seconds') ?? null,
      });
      const view: SchedulerViewSample = {
        t: at.t,
        ok: true,
        nodes: {},
        streams: streams.total,
        edgeViewers: 0,
      };
      for (const n of nodes.nodes) {
        view.nodes[n.nodeId] = {
          players: n.load.players ?? 0,
          publishers: n.load.publishers ?? 0,
          relays: n.load.relays ?? 0,
          healthy: n.healthy,
        };
      }
      for (const s of streams.streams) for (const e of s.edges) view.edgeViewers += e.viewers;
      this.schedulerView.push(view);
    } catch {
      this.push('scheduler', failed(at));
      this.schedulerView.push({ t: at.t, ok: false, nodes: {}, streams: 0, edgeViewers: 0 });
    }
  }

  private sampleSelf(at: At, viewersConnected: number): void {
    const m = process.memoryUsage();
    const cpu = process.cpuUsage();
    const p99 = this.ownLoop.percentile(99) / 1e6;
    this.ownLoop.reset();
    this.push('soak (load generator)', {
      ...at,
      ok: true,
      rssBytes: m.rss,
      heapUsedBytes: m.heapUsed,
      heapAfterGcBytes: this.ownHeap.gauges().process_heap_after_gc_bytes || null,
      loopP99Ms: Math.max(0, Math.round((p99 - 10) * 100) / 100),
      cpuPercent: this.cpuPercent('soak', cpu.user + cpu.system),
      uptimeS: null,
    });
    const host = hostCpuTicks();
    let hostCpuPercent: number | null = null;
    if (host && this.prevHost && host.total > this.prevHost.total)
      hostCpuPercent =
        Math.round(((host.busy - this.prevHost.busy) / (host.total - this.prevHost.total)) * 1000) / 10;
    this.prevHost = host;
    this.load.push({ ...at, viewersConnected, hostCpuPercent });
  }
}

interface At {
  t: number;
  phase: Phase;
}

function failed(at: At): ProcessSample {
  return {
    ...at,
    ok: false,
    rssBytes: null,
    heapUsedBytes: null,
    heapAfterGcBytes: null,
    loopP99Ms: null,
    cpuPercent: null,
    uptimeS: null,
  };
}
