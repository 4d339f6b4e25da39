// The load tool behind `npm run bench`: one publisher, N players, server CPU/RSS; or a comparison,
// --streams, --grid/--publishers or --relay. See README.md.
import { join, resolve } from 'node:path';
import { isComparison, parseBenchArgs, USAGE, type BenchArgs } from './args.ts';
import { runComparison } from './compare.ts';
import { formatCompareReport } from './compare-report.ts';
import { runFanout, sluiceServer } from './fanout.ts';
import { runGrid } from './grid.ts';
import { pinSelf, resolvePinning, type PinDecision } from './pinning.ts';
import { runRelay } from './relay.ts';
import { formatReport } from './report.ts';
import { ScenarioKind } from './scenario-args.ts';
import { runStreams } from './streams.ts';

const REPO = resolve(import.meta.dirname, '../..');
const WORK_DIR = join(REPO, '.bench');

/** JSON figures to 0.1: the measurement is not finer than that. */
const roundNumbers = (_key: string, v: unknown): unknown =>
  typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 10) / 10 : v;

async function main(): Promise<number> {
  let args: BenchArgs | 'help';
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let pin: PinDecision;
  try {
    pin = args.target ? { plan: null, why: 'not pinned (target server)' } : resolvePinning(args.pin);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    // Before anything is spawned: children (ffmpeg) inherit the bench's CPUs.
    if (pin.plan) pinSelf(pin.plan);
    const out = (report: unknown, text: () => string): void => {
      process.stdout.write(args.json ? `${JSON.stringify(report, roundNumbers, 2)}\n` : `${text()}\n`);
    };
    if (args.scenario) {
      const r =
        args.scenario.kind === ScenarioKind.Relay
          ? await runRelay(args, WORK_DIR, pin)
          : await runGrid(args, args.scenario, WORK_DIR, pin);
      out(r.report, () => r.text);
      return 0;
    }
    if (args.streams > 0) {
      const r = await runStreams(args, WORK_DIR, pin);
      out(r.report, () => r.text);
      return 0;
    }
    if (isComparison(args)) {
      const c = await runComparison(args, WORK_DIR, pin);
      out(c, () => formatCompareReport(c));
      return c.runs.some((r) => r.report === null) ? 1 : 0;
    }
    const report = await runFanout(
      args,
      WORK_DIR,
      args.target ? null : sluiceServer(args, WORK_DIR, pin.plan?.serverCpu ?? null),
    );
    if (!args.target) report.pinning = pin.why;
    out(report, () => formatReport(report));
    return 0;
  } catch (e) {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

const code = await main();
// 1000 sockets may still be closing; the report is out, so do not wait for them.
process.stdout.write('', () => process.exit(code));
