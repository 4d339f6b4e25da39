// `npm run bench -- --peer P / --coalesce LIST / --players LIST`: several fan-out runs, one
// server at a time, in one report. See README.md, "Comparing servers and settings".
import { Peer, type BenchArgs } from './args.ts';
import {
  SLUICE,
  settingLabel,
  withCpuRatios,
  type CompareReport,
  type CompareRun,
  type CompareRunSpec,
} from './compare-report.ts';
import { runFanout, sluiceServer, type RunServer } from './fanout.ts';
import { spawnLal } from './peer-lal.ts';
import { nginxRtmpMissing, spawnNginxRtmp } from './peer-nginx.ts';
import type { PinDecision } from './pinning.ts';

const t0 = performance.now();
const progress = (msg: string): void => {
  process.stderr.write(`bench: ${((performance.now() - t0) / 1000).toFixed(1)} s ${msg}\n`);
};

/**
 * The runs, interleaved per player count: the peer, then each Sluice setting, then the next
 * count. Neighbouring runs see about the same host load, which keeps the ratios fair on a busy
 * machine.
 */
export function comparePlan(args: BenchArgs): CompareRunSpec[] {
  const settings = args.coalesceMs.length > 0 ? args.coalesceMs : [null];
  const out: CompareRunSpec[] = [];
  for (const players of args.playerCounts) {
    if (args.peer) out.push({ server: args.peer, writeCoalesceMs: null, players });
    for (const c of settings) out.push({ server: SLUICE, writeCoalesceMs: c, players });
  }
  return out;
}

function runServer(spec: CompareRunSpec, args: BenchArgs, workDir: string, pinCpu: number | null): RunServer {
  switch (spec.server) {
    case SLUICE:
      return sluiceServer(
        args,
        workDir,
        pinCpu,
        spec.writeCoalesceMs === null ? {} : { viewer: { writeCoalesceMs: spec.writeCoalesceMs } },
      );
    case Peer.NginxRtmp:
      return {
        name: spec.server,
        spawn: () => spawnNginxRtmp(workDir, args.app, spec.players, pinCpu),
        profileDir: null,
      };
    case Peer.Lal:
      return { name: spec.server, spawn: () => spawnLal(args.lalBin!, workDir, pinCpu), profileDir: null };
  }
}

/**
 * Every run of the plan in sequence, never two servers at once. A run that fails is reported as
 * such and the others still run; the caller exits 1 when any failed.
 */
export async function runComparison(
  args: BenchArgs,
  workDir: string,
  pin: PinDecision,
): Promise<CompareReport> {
  if (args.peer === Peer.NginxRtmp) {
    const missing = nginxRtmpMissing();
    if (missing) throw new Error(`--peer nginx-rtmp: ${missing} (apt-get install nginx libnginx-mod-rtmp)`);
  }
  const plan = comparePlan(args);
  const runs: CompareRun[] = [];
  for (const [i, spec] of plan.entries()) {
    progress(`run ${i + 1}/${plan.length}: ${spec.server} ${settingLabel(spec)}, ${spec.players} players`);
    const server = runServer(spec, args, workDir, pin.plan?.serverCpu ?? null);
    try {
      const report = await runFanout({ ...args, players: spec.players }, workDir, server);
      report.pinning = pin.why;
      runs.push({ ...spec, cpuRatio: null, report, error: null });
    } catch (e) {
      progress(`run ${i + 1} failed: ${(e as Error).message}`);
      runs.push({ ...spec, cpuRatio: null, report: null, error: (e as Error).message });
    }
  }
  return {
    proto: args.proto,
    durationS: args.durationS,
    bitrateKbps: args.bitrateKbps,
    peer: args.peer,
    pinning: pin.why,
    runs: withCpuRatios(runs, args.peer),
  };
}
