import { hostname } from 'node:os';
import { NatsBus } from '../../libs/cluster/nats-bus.ts';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import { formatRedisUrl } from '../../libs/cluster/redis-url.ts';
import { formatListen, parseListen } from '../../libs/config/listen.ts';
import { createRootLogger } from '../../libs/log/logger.ts';
import { Counters } from '../../libs/metrics/counters.ts';
import { natsSettingsOf, redisTargetOf } from '../node/cluster-config.ts';
import { loadSchedulerConfig } from './config.ts';
import { observeEvents } from './event-log.ts';
import { RegistryCache } from './registry-cache.ts';
import { Scheduler } from './scheduler.ts';
import { SchedulerServer } from './server.ts';

/** How long /readyz waits for Redis before answering 503. */
const READY_TIMEOUT_MS = 1000;

/**
 * `sluice scheduler`: HTTP on :8090 answering from the Redis registry. Starts even when Redis
 * or NATS are down (readyz says 503 until Redis answers); SIGTERM/SIGINT stop it.
 */
export async function runScheduler(configFile: string | undefined): Promise<void> {
  const cfg = loadSchedulerConfig(configFile);
  // A bad NATS URL or unreadable creds/TLS file is a ConfigError (exit 1), not a silent bus.
  if (cfg.cluster.natsUrl) natsSettingsOf(cfg.cluster);
  const redisTarget = redisTargetOf(cfg.cluster);
  cfg.nodeId ||= hostname();
  const log = createRootLogger({ level: cfg.log.level, nodeId: cfg.nodeId });
  const counters = new Counters();
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
  const stopEvents = bus ? observeEvents(bus, counters, log.child({ component: 'events' })) : () => {};

  const scheduler = new Scheduler({
    registry: new RegistryCache(registry, cfg.cluster.cacheMs),
    routing: cfg.routing,
    heartbeatMs: cfg.cluster.heartbeatMs,
  });
  const server = new SchedulerServer({
    scheduler,
    counters,
    log: log.child({ component: 'http' }),
    nodeId: cfg.nodeId,
    ready: () => answers(() => registry.listNodes(), READY_TIMEOUT_MS),
  });
  const l = parseListen(cfg.listen);
  let bound: { host: string; port: number };
  try {
    bound = await server.listen(l.host, l.port);
  } catch (e) {
    stopEvents();
    await Promise.allSettled([registry.close(), bus?.close()]);
    throw e;
  }
  log.info(
    { listen: formatListen(bound), redis: formatRedisUrl(redisTarget), nats: bus ? 'on' : 'off' },
    'scheduler listening',
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.drain();
    const force = setTimeout(() => process.exit(1), 5_000);
    force.unref();
    stopEvents();
    Promise.allSettled([server.close(), registry.close(), bus?.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Resolves true when `read` succeeds within `timeoutMs`, false otherwise. */
async function answers(read: () => Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
  try {
    return await Promise.race([
      read().then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
