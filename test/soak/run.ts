/**
 * `npm run soak -- --minutes N`: a local cluster (2 origins, 2 edges, scheduler, private
 * redis-server and nats-server) under churn for N minutes: publishers killed and restarted on
 * the other origin every 30-60 s, ~500 in-process viewers (RTMP, HTTP-FLV, WS-FLV) joining and
 * leaving, a tenth of them slow or stalled, clients closing mid-handshake. Samples every
 * process, then checks that counts return to zero, and prints verdicts (exit 1 if one fails).
 * See README "Soak".
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { startCluster } from '../integration/helpers/cluster.ts';
import { makeTestFlv } from '../integration/helpers/media.ts';
import { Aborters } from './aborters.ts';
import { parseSoakArgs, USAGE, type SoakArgs } from './args.ts';
import { DRAIN, EDGE_OVERRIDES, HD_KEY, HD_MEDIA, REGULAR_MEDIA, regularKeys } from './config.ts';
import { waitSessionsZero, waitStreamsGone } from './end-checks.ts';
import { LogWatch } from './log-watch.ts';
import { Population } from './population.ts';
import { PublisherCycle } from './publishers.ts';
import { markdownReport } from './report.ts';
import { Rng } from './rng.ts';
import { Router, type EdgeAddress } from './router.ts';
import { Sampler } from './sampler.ts';
import { judge, type SoakData } from './verdicts.ts';

/** The first publish of every key must be live within this, or the run is aborted. */
const FIRST_PUBLISH_TIMEOUT_MS = 30_000;
/** Viewers' goodbyes (deleteStream, WebSocket close) get this long before counts are checked. */
const GOODBYE_MS = 1000;
const LOG_DRAIN_MS = 2000;

const say = (s: string): void => void process.stderr.write(`[soak] ${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function soak(args: SoakArgs): Promise<boolean> {
  const rng = new Rng(args.seed);
  say(`seed ${args.seed}; making media`);
  const [regularFile, hdFile] = await Promise.all([makeTestFlv(REGULAR_MEDIA), makeTestFlv(HD_MEDIA)]);
  say('starting redis, nats, 2 origins, 2 edges, scheduler');
  const c = await startCluster({ origins: 2, edges: 2, scheduler: true, edgeConfig: EDGE_OVERRIDES });
  const publishers: PublisherCycle[] = [];
  try {
    const scheduler = c.scheduler!;
    const originIds = ['origin-1', 'origin-2'];
    const edgeIds = ['edge-1', 'edge-2'];
    const named = [
      ...c.origins.map((p, i) => ({ name: originIds[i]!, api: p.api, proc: p.proc, logs: p.logs })),
      ...c.edges.map((p, i) => ({ name: edgeIds[i]!, api: p.api, proc: p.proc, logs: p.logs })),
    ];
    const logWatch = new LogWatch(
      [...named, { name: 'scheduler', logs: scheduler.logs }],
      c.events,
      args.logs,
    );
    const logTimer = setInterval(() => logWatch.drain(), LOG_DRAIN_MS);

    const keys = regularKeys(args.streams);
    const allKeys = [...keys, HD_KEY];
    say(`publishing ${allKeys.join(', ')}`);
    for (const [i, key] of allKeys.entries()) {
      publishers.push(
        new PublisherCycle({
          key,
          file: key === HD_KEY ? hdFile : regularFile,
          origins: c.origins,
          originIds,
          registry: c.registry,
          rng,
          life: { minMs: args.publishMinS * 1000, maxMs: args.publishMaxS * 1000 },
          firstOrigin: i % 2,
        }),
      );
    }
    const first = await Promise.race([
      Promise.all(publishers.map((p) => p.start())),
      sleep(FIRST_PUBLISH_TIMEOUT_MS).then(() => null),
    ]);
    if (!first || first.includes(false)) throw new Error('the first publishes did not go live');

    const edges: EdgeAddress[] = c.edges.map((p, i) => ({ nodeId: edgeIds[i]!, rtmp: p.rtmp, http: p.http }));
    const router = new Router(scheduler.url, edges);
    const population = new Population({ target: args.viewers, keys, router, rng });
    const aborters = new Aborters(edges, allKeys, rng);
    const sampler = new Sampler({
      media: named,
      scheduler: { url: scheduler.url, proc: scheduler.proc },
      viewersConnected: () => population.size,
    });
    say(`load: ${args.viewers} viewers, ${args.abortsPerS} mid-handshake clients/s, for ${args.minutes} min`);
    sampler.start(args.sampleS * 1000);
    population.start();
    aborters.start(args.abortsPerS);
    const runMs = args.minutes * 60_000;
    const progressEveryMs = Math.max(10_000, Math.min(60_000, runMs / 10));
    const progress = setInterval(() => {
      const errs =
        population.stats.problemCount +
        aborters.errorCount +
        publishers.reduce((a, p) => a + p.errorCount, 0) +
        logWatch.errorCount;
      say(
        `t=${sampler.now()} s viewers ${population.size} started ${population.stats.summary().started} ` +
          `errors ${errs} restarts ${sampler.restarts.length}`,
      );
    }, progressEveryMs);
    await sleep(runMs);
    clearInterval(progress);
    const runS = sampler.now();
    sampler.endLoad();

    say('stopping viewers; waiting for every count to reach zero');
    await population.stopAll();
    const aborts = aborters.stop();
    await sleep(GOODBYE_MS);
    const endpoints = { nodes: named, scheduler: scheduler.url };
    const sessionsZero = await waitSessionsZero(endpoints, DRAIN.sessionsZeroMs);
    say('stopping publishers; waiting for streams and claims to go');
    await Promise.all(publishers.map((p) => p.stop()));
    const streamsGone = await waitStreamsGone(endpoints, c.registry, allKeys, DRAIN.streamsGoneMs);
    await sampler.stop();
    clearInterval(logTimer);
    logWatch.drain();
    logWatch.close();

    const data: SoakData = {
      args,
      runS,
      series: Object.fromEntries(sampler.series),
      judged: [...named.map((n) => n.name), 'scheduler'],
      load: sampler.load,
      schedulerView: sampler.schedulerView,
      restarts: sampler.restarts,
      apiFailures: Object.fromEntries(sampler.apiFailures),
      viewers: population.stats.summary(),
      aborts,
      publishers: publishers.map((p) => p.s),
      route: { routed: router.routed, errors: router.routeErrors, lastError: router.lastRouteError },
      logs: logWatch.tally,
      counters: Object.fromEntries(sampler.counters),
      schedulerCounters: Object.fromEntries(sampler.schedulerCounters),
      sessionsZero,
      streamsGone,
    };
    const j = judge(data);
    process.stdout.write(markdownReport(data, j) + '\n');
    if (args.out) {
      mkdirSync(dirname(args.out), { recursive: true });
      writeFileSync(args.out, JSON.stringify({ pass: j.pass, judgement: j, data }, null, 1));
      say(`JSON report: ${args.out}`);
    }
    return j.pass;
  } finally {
    await Promise.allSettled(publishers.map((p) => p.stop()));
    await c.stop();
  }
}

async function main(): Promise<number> {
  let args: SoakArgs | 'help';
  try {
    args = parseSoakArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    return (await soak(args)) ? 0 : 1;
  } catch (e) {
    process.stderr.write(`soak failed to run: ${(e as Error).stack ?? String(e)}\n`);
    return 3;
  }
}

process.exitCode = await main();
// Sockets of viewers cut at the end may linger a moment; nothing else should keep us.
setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
