// `npm run bench -- --relay`: what an origin -> edge relay adds over direct play. See README.md,
// "Scenarios".
import type { BenchArgs } from './args.ts';
import { startBenchCluster } from './bench-cluster.ts';
import { measureOn, type Window } from './fanout.ts';
import { loadBenchMedia } from './media.ts';
import type { PinDecision } from './pinning.ts';
import { formatReport, type BenchReport, type Spread } from './report.ts';
import { procProbe, type ProcSample, type ServerProbe } from './sampler.ts';
import { procFigures, type ProcFigures } from './window-meter.ts';
import { sleep } from './timing.ts';

export interface RelayReport {
  players: number;
  proto: string;
  /** Players on the origin (report.server = the origin). */
  direct: BenchReport;
  /** Players on the edge, which relay-pulls from the origin (report.server = the edge). */
  relay: BenchReport;
  /** The process report.server is not, over the same window: edge (idle) in direct, origin in relay. */
  other: { direct: ProcFigures; relay: ProcFigures };
  /** relay median - direct median; latencyMs only when the players measured it. */
  addedMs: { latency: number | null; firstKeyFrame: number | null; maxLag: number | null };
  notes: string[];
}

const PAUSE_MS = 1000;

/**
 * A ServerProbe of `primary` that reads `secondary` at the same moments into `into`: the
 * measurement reads its probe at the window's edges and every second, so both processes get
 * the same window. The read before the players (the per-player memory base) is `primary`'s
 * alone: `window` has not started yet.
 */
function pairedProbe(
  primary: ServerProbe,
  secondary: ServerProbe,
  into: ProcSample[],
  window: Window,
): ServerProbe {
  return {
    source: primary.source,
    async read(): Promise<ProcSample> {
      if (window.fromUs === 0) return primary.read();
      const [a, b] = await Promise.all([primary.read(), secondary.read()]);
      into.push(b);
      return a;
    },
  };
}

const newWindow = (): Window => ({ fromUs: 0, toUs: 0 });

/**
 * Direct play on the origin, then the same players on the edge; one cluster, one invocation.
 * Each half is a fan-out run (fanout.ts) with its publisher on the origin. Pinned, origin and
 * edge share the server CPU, so the bench's players never compete with either.
 */
export async function runRelay(
  args: BenchArgs,
  workDir: string,
  pin: PinDecision,
): Promise<{ report: RelayReport; text: string }> {
  const media = loadBenchMedia(workDir, args.bitrateKbps);
  const c = await startBenchCluster(workDir, args.serverNodeArgs, pin.plan?.serverCpu ?? null);
  const originProbe = procProbe(c.origin.pid);
  const edgeProbe = procProbe(c.edge.pid);
  const edgeWhileDirect: ProcSample[] = [];
  const originWhileRelay: ProcSample[] = [];
  let direct: BenchReport;
  let relay: BenchReport;
  try {
    const directWindow = newWindow();
    direct = await measureOn(
      args,
      media,
      c.origin,
      c.origin,
      pairedProbe(originProbe, edgeProbe, edgeWhileDirect, directWindow),
      directWindow,
    );
    direct.server.warnings = Object.fromEntries(c.origin.warnings);
    await sleep(PAUSE_MS); // the direct players' closes settle before the edge's window
    const relayWindow = newWindow();
    relay = await measureOn(
      args,
      media,
      c.origin,
      c.edge,
      pairedProbe(edgeProbe, originProbe, originWhileRelay, relayWindow),
      relayWindow,
    );
    relay.server.warnings = Object.fromEntries(c.edge.warnings);
  } finally {
    await sleep(200);
    await c.stop();
  }
  const diff = (s: (r: BenchReport) => Spread | null | undefined): number | null => {
    const a = s(direct)?.median;
    const b = s(relay)?.median;
    return a === undefined || b === undefined ? null : b - a;
  };
  const notes: string[] = [];
  if (direct.latencyFrames === null)
    notes.push(`${args.proto} players do not measure latency: compare first key frame and max lag`);
  direct.pinning = relay.pinning = pin.why;
  const report: RelayReport = {
    players: args.players,
    proto: args.proto,
    direct,
    relay,
    other: { direct: procFigures(edgeWhileDirect), relay: procFigures(originWhileRelay) },
    addedMs: {
      latency: diff((r) => r.latencyMs),
      firstKeyFrame: diff((r) => r.firstKeyFrameMs),
      maxLag: diff((r) => r.lagMs),
    },
    notes,
  };
  return { report, text: formatRelayReport(report) };
}

const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined ? 'n/a' : n.toFixed(digits);
const signed = (n: number | null): string => (n === null ? 'n/a' : `${n >= 0 ? '+' : ''}${n.toFixed(1)}`);
const latencyPair = (b: BenchReport): string =>
  b.latencyMs ? `${fmt(b.latencyMs.median, 1)} / ${fmt(b.latencyMs.p99, 1)}` : 'n/a';
const cpuRss = (f: { cpuAvgPct: number | null; cpuMaxPct: number | null; rssMaxMb: number | null }): string =>
  `${fmt(f.cpuAvgPct)} / ${fmt(f.cpuMaxPct)}; ${fmt(f.rssMaxMb)}`;

export function formatRelayReport(r: RelayReport): string {
  const indent = (s: string): string =>
    s
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n');
  const rows: [string, string, string][] = [
    ['', 'direct (origin)', 'relay (edge)'],
    ['origin CPU % avg / max; RSS max MB', cpuRss(r.direct.server), cpuRss(r.other.relay)],
    ['edge CPU % avg / max; RSS max MB', cpuRss(r.other.direct), cpuRss(r.relay.server)],
    ['players fell behind', String(r.direct.fellBehind.total), String(r.relay.fellBehind.total)],
    ['connect failures', String(r.direct.connectFailures), String(r.relay.connectFailures)],
    ['added latency ms median / p99', latencyPair(r.direct), latencyPair(r.relay)],
    [
      'first key frame (HLS: segment) ms median',
      fmt(r.direct.firstKeyFrameMs?.median),
      fmt(r.relay.firstKeyFrameMs?.median),
    ],
    ['max lag ms median', fmt(r.direct.lagMs?.median), fmt(r.relay.lagMs?.median)],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const a = r.addedMs;
  return [
    `${r.players} ${r.proto} players on the origin, then the same on an edge relay-pulling from it`,
    ...rows.map(([k, d, e]) => `${k.padEnd(w0)}  ${d.padStart(w1)}  ${e}`),
    `added by the relay, ms (relay - direct medians): latency ${signed(a.latency)}, first key frame ${signed(a.firstKeyFrame)}, max lag ${signed(a.maxLag)}`,
    ...r.notes.map((n) => `note: ${n}`),
    '',
    'direct, players on the origin (server = origin):',
    indent(formatReport(r.direct)),
    '',
    'relay, players on the edge (server = edge):',
    indent(formatReport(r.relay)),
  ].join('\n');
}
