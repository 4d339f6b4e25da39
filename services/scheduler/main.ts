import { hostname } from 'node:os';
import { NatsBus } from '../../libs/cluster/nats-bus.ts';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import { formatRedisUrl } from '../../libs/cluster/redis-url.ts';
import { formatListen, parseListen } from '../../libs/config/listen.ts';
import { ListenError } from '../../libs/http/listen.ts';
import { createRootLogger } from '../../libs/log/logger.ts';
import { Metrics } from '../../libs/metrics/metrics.ts';
import { natsSettingsOf, redisTargetOf } from '../node/cluster-config.ts';
import { EventLoopDelay } from '../../libs/metrics/event-loop-delay.ts';
import { logStart } from '../node/version.ts';
import { HeapAfterGc } from '../../libs/metrics/heap-after-gc.ts';
import { processGauges } from '../../libs/metrics/process-gauges.ts';
import { loadSchedulerConfig } from './config.ts';
import { tokensOf } from '../node/api/auth.ts';
import { ControlForwarder } from './api/control-forward.ts';
import { schedulerApiRouter } from './api/routes.ts';
import { createSchedulerCore } from './core.ts';
import { SchedulerServer } from './server.ts';
import { startSchedulerWebhooks } from './webhooks.ts';

/**
 * `sluice scheduler`: HTTP on :8090 answering from an in-memory view of the cluster, fed by
 * NATS and reconciled from Redis (DESIGN "Scheduler view"). Starts even when Redis or NATS are
 * down (readyz says 503 until the view is bootstrapped from Redis); SIGTERM/SIGINT stop it.
 */
export async function runScheduler(configFile: string | undefined): Promise<void> {
  const cfg = loadSchedulerConfig(configFile);
  // A bad NATS URL or unreadable creds/TLS file is a ConfigError (exit 1), not a silent bus.
  if (cfg.cluster.natsUrl) natsSettingsOf(cfg.cluster);
  const redisTarget = redisTargetOf(cfg.cluster);
  cfg.nodeId ||= hostname();
  const log = createRootLogger({ level: cfg.log.level, nodeId: cfg.nodeId, format: cfg.log.format });
  logStart(log, 'scheduler');
  const metrics = new Metrics();
  const counters = metrics.counters;
  const registry = new RedisRegistry({
    url: cfg.cluster.redisUrl,
    log: log.child({ component: 'registry' }),
  });
  const c = cfg.cluster;
  const bus = c.natsUrl
    ? new NatsBus({
        url: c.natsUrl,
        credsFile: c.natsCredsFile,
        caFile: c.natsCaFile,
        certFile: c.natsCertFile,
        keyFile: c.natsKeyFile,
        name: cfg.nodeId,
        log,
        counters,
      })
    : null;
  const loopDelay = new EventLoopDelay();
  const heapAfterGc = new HeapAfterGc();
  const core = createSchedulerCore({
    cfg,
    registry,
    bus,
    counters,
    log,
    registryUp: () => registry.status === 'ready',
  });
  const webhooks = startSchedulerWebhooks(bus, cfg.webhooks, { log, counters });
  // A Redis that comes back may have lost everything: read it all again at once.
  const offReconnect = registry.onReconnect(() => core.reconciler.runSoon());
  const apiLog = log.child({ component: 'api' });
  const api = schedulerApiRouter(
    {
      nodeId: cfg.nodeId,
      startedAt: Date.now() - Math.round(process.uptime() * 1000),
      view: core.view,
      scheduler: core.scheduler,
      sessions: core.sessions,
      control: new ControlForwarder({ bus, counters, log: apiLog }),
      counters,
      log: apiLog,
    },
    { tokens: tokensOf(cfg.api.token), protectStats: cfg.api.protectStats },
  );
  const server = new SchedulerServer({
    api,
    scheduler: core.scheduler,
    counters,
    log: log.child({ component: 'http' }),
    nodeId: cfg.nodeId,
    status: core.status,
    metrics,
    gauges: () => ({
      ...core.gauges(),
      ...loopDelay.secondsGauges(),
      ...processGauges(),
      ...heapAfterGc.gauges(),
    }),
  });
  const l = parseListen(cfg.listen);
  let bound: { host: string; port: number };
  try {
    bound = await server.listen(l.host, l.port);
  } catch (e) {
    await Promise.allSettled([registry.close(), bus?.close()]);
    throw new ListenError('listen', cfg.listen, e);
  }
  core.start();
  log.info(
    {
      listen: formatListen(bound),
      redis: formatRedisUrl(redisTarget),
      nats: bus ? 'on' : 'off',
      reconcileMs: cfg.cluster.reconcileMs,
    },
    'scheduler listening',
  );
  if (!bus) {
    log.info(
      { reconcileMs: cfg.cluster.reconcileMs },
      'no NATS (cluster.natsUrl is empty): polling Redis every reconcileMs; node health follows Redis records',
    );
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.drain();
    const force = setTimeout(() => process.exit(1), 5_000);
    force.unref();
    core.stop();
    offReconnect();
    Promise.allSettled([
      server.close(),
      registry.close(),
      (webhooks?.stop() ?? Promise.resolve()).then(() => bus?.close()),
    ]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
