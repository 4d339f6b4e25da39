import { Cluster, Redis } from 'ioredis';
import { reconnectDelayMs } from './redis-reconnect.ts';
import { RedisTopology, type RedisTarget } from './redis-url.ts';

/** A single server or a Sentinel-managed master (one connection), or a Redis Cluster client. */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** A command rejects after waiting this long for its reply (ms). */
  timeoutMs: number;
  /** CLIENT SETNAME of every data connection (single, the master, each cluster node). */
  connectionName?: string;
}

/**
 * The ioredis client for a parsed `cluster.redisUrl`, with the same failure behaviour in
 * every topology:
 *  - no offline queue: while Redis is unreachable calls wait (bounded) in the registry's
 *    whenReady() and then fail, instead of being queued and run long after their caller gave
 *    up (a claim nobody knows about);
 *  - nothing is resent: a command whose connection closed may have run, so it fails;
 *  - every command has a timeout, and reconnection never stops (capped backoff).
 */
export function createRedisClient(target: RedisTarget, opts: RedisClientOptions): RedisClient {
  const common = {
    // RESP2: works with every Redis and proxy; nothing here needs RESP3.
    protocol: 2 as const,
    ...(opts.connectionName ? { connectionName: opts.connectionName } : {}),
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.timeoutMs,
  };
  switch (target.topology) {
    case RedisTopology.Single:
      return new Redis({
        ...common,
        host: target.host,
        port: target.port,
        db: target.db,
        ...(target.tls ? { tls: {} } : {}),
        enableOfflineQueue: false,
        retryStrategy: reconnectDelayMs,
      });
    case RedisTopology.Sentinel:
      return new Redis({
        ...common,
        sentinels: target.sentinels,
        name: target.masterName,
        role: 'master',
        db: target.db,
        ...(target.sentinelUsername ? { sentinelUsername: target.sentinelUsername } : {}),
        ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
        ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
        sentinelCommandTimeout: opts.timeoutMs,
        sentinelRetryStrategy: reconnectDelayMs,
        // Drop the connection as soon as a sentinel announces +switch-master: the demoted
        // master keeps accepting (and then losing) writes until Sentinel reconfigures it,
        // which can take several seconds.
        failoverDetector: true,
        // A master demoted under an open connection answers READONLY: reconnect through the
        // sentinels (1 = reconnect without resending the failed command).
        reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 1 : false),
        enableOfflineQueue: false,
        retryStrategy: reconnectDelayMs,
      });
    case RedisTopology.Cluster: {
      return new Cluster(target.nodes, {
        enableOfflineQueue: false,
        clusterRetryStrategy: reconnectDelayMs,
        // ioredis resends a command whose node connection closed ("failover"): it may have
        // run there, so never. CLUSTERDOWN fails like a down server; callers retry on their
        // own schedule. MOVED/ASK/TRYAGAIN (the command did not run) are still followed.
        retryDelayOnFailover: 0,
        retryDelayOnClusterDown: 0,
        slotsRefreshTimeout: opts.timeoutMs,
        redisOptions: {
          ...common,
          // Node connections queue commands while they connect (ioredis forces it); bound that.
          connectTimeout: opts.timeoutMs,
          ...(target.tls ? { tls: {} } : {}),
        },
        // With TLS, connect to the names given so certificates match them.
        ...(target.tls ? { dnsLookup: tlsNameLookup } : {}),
      });
    }
  }
}

function tlsNameLookup(address: string, cb: (err: null, address: string) => void): void {
  cb(null, address);
}

export function isCluster(c: RedisClient): c is Cluster {
  return c instanceof Cluster;
}

/**
 * The connections to the servers that take writes: the one connection of a single server or
 * Sentinel master, each master's connection in a cluster (as ioredis knows them now).
 */
export function masterConnections(c: RedisClient): Redis[] {
  return isCluster(c) ? c.nodes('master') : [c];
}
