import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

// Viewers asking the scheduler where to play, over HTTP keep-alive with a bounded number of
// requests in flight, each timed from the request to the last byte of the answer.

export interface Viewer {
  key: string;
  protocol: string;
}

export interface RouteRun {
  /** Sorted, ms. */
  latenciesMs: Float64Array;
  errors: number;
  relaying: number;
  seconds: number;
}

/** A small deterministic PRNG (mulberry32), so runs route the same viewers. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Stream popularity like a live platform's: Zipf-like (a few streams draw most viewers). */
export function popularity(streams: number, exponent = 0.8): (u: number) => number {
  const cdf = new Float64Array(streams);
  let sum = 0;
  for (let i = 0; i < streams; i++) cdf[i] = sum += 1 / (i + 1) ** exponent;
  return (u) => {
    const x = u * sum;
    let lo = 0;
    let hi = streams - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export async function routeViewers(o: {
  url: string;
  count: number;
  concurrency: number;
  /** Viewers arriving per second (requests start no faster; fewer when the answers lag). */
  ratePerSec: number;
  viewer: (i: number) => Viewer;
  /** Called with each answer (the edge then serves that viewer). */
  routed: (i: number, edgeId: string) => void;
}): Promise<RouteRun> {
  const base = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const latencies = new Float64Array(o.count);
  let next = 0;
  let errors = 0;
  let relaying = 0;
  const one = (v: Viewer): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: base.hostname,
          port: base.port,
          path: `/api/v1/route/${v.key}?protocol=${v.protocol}`,
          agent,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (next < o.count) {
      const i = next++;
      const v = o.viewer(i);
      const due = start + (i * 1000) / o.ratePerSec;
      const early = due - performance.now();
      if (early > 1) await new Promise((r) => setTimeout(r, early));
      // Latency counts from when the viewer arrived (`due`), not from when a free connection
      // let the request go: a stalled scheduler must not hide its stall by slowing the client
      // down (coordinated omission).
      const t0 = Math.min(performance.now(), due);
      try {
        const r = await one(v);
        latencies[i] = performance.now() - t0;
        if (r.status !== 200) {
          errors++;
          continue;
        }
        const a = JSON.parse(r.body) as { edge: { nodeId: string; reason: string } };
        if (a.edge.reason === 'relaying') relaying++;
        o.routed(i, a.edge.nodeId);
      } catch {
        latencies[i] = performance.now() - t0;
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { latenciesMs: latencies.sort(), errors, relaying, seconds };
}
