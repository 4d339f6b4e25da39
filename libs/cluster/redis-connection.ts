import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createRedisClient, isCluster, masterConnections, type RedisClient } from './redis-client.ts';
import { RegistryUnavailableError } from './registry-errors.ts';
import type { RedisTarget } from './redis-url.ts';

export interface RedisConnectionOptions {
  /** How long a call waits for the connection before it rejects (ms). */
  timeoutMs: number;
  connectionName?: string;
  log?: Logger | undefined;
}

/**
 * The life of the registry's Redis client, the same for a single server, a Sentinel-managed
 * master and a Redis Cluster: wait (bounded) until commands can go out, tell when the
 * connection is ready again after an outage, log an outage once.
 *
 * A cluster client is "ready" once it knows the slots, but its node connections open lazily,
 * and without an offline queue ioredis fails every command sent to a node that is still
 * connecting except the first. So calls also wait for the masters' connections (opening
 * those not yet opened); one still connecting after timeoutMs no longer holds calls up.
 */
export class RedisConnection {
  readonly client: RedisClient;
  private readonly log: Logger | undefined;
  private readonly timeoutMs: number;
  private readonly reconnectHandlers = new Set<() => unknown>();
  private readonly readyWaiters = new Set<(err?: Error) => void>();
  private everReady = false;
  private outage = false;

  constructor(target: RedisTarget, opts: RedisConnectionOptions) {
    this.log = opts.log;
    this.timeoutMs = opts.timeoutMs;
    this.client = createRedisClient(target, {
      timeoutMs: opts.timeoutMs,
      ...(opts.connectionName ? { connectionName: opts.connectionName } : {}),
    });
    const c = this.client;
    c.on('ready', () => this.onReady());
    c.on('close', () => {
      if (this.everReady && !this.outage) {
        this.outage = true;
        this.log?.warn('redis connection lost');
      }
    });
    c.on('error', (err: Error) => {
      // Every reconnect attempt fails the same way while Redis is down: log the first one.
      if (!this.outage) this.log?.warn({ err: err.message }, 'redis error');
      if (!this.everReady) this.outage = true;
    });
    c.on('end', () => this.wakeWaiters(new RegistryUnavailableError('registry: redis connection closed')));
    if (isCluster(c)) {
      c.on('node error', (err: Error, node: string) => {
        if (!this.outage) this.log?.warn({ err: err.message, node }, 'redis cluster node error');
      });
      c.on('+node', (node: Redis) => {
        const recheck = (): void => {
          if (this.commandsReady()) this.wakeWaiters();
        };
        node.on('ready', recheck);
        node.on('end', recheck);
      });
    }
  }

  /** ioredis status: wait, connecting, connect, ready, close, reconnecting, end (cluster: also disconnecting). */
  get status(): string {
    return this.client.status;
  }

  /** Runs `cb` each time the client is ready again after having been ready (a Redis restart loses claims). */
  onReconnect(cb: () => unknown): () => void {
    this.reconnectHandlers.add(cb);
    return () => this.reconnectHandlers.delete(cb);
  }

  /** The connections of the servers that take writes (one, or each cluster master). */
  masters(): Redis[] {
    return masterConnections(this.client);
  }

  /** Resolves once commands can go out; rejects after `timeoutMs` (Redis down) or when closed. */
  whenReady(): Promise<void> {
    if (this.commandsReady()) return Promise.resolve();
    if (this.client.status === 'end')
      return Promise.reject(new RegistryUnavailableError('registry: redis connection closed'));
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        this.readyWaiters.delete(done);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => {
        // A cluster master still connecting does not hold up calls to the others any longer.
        if (this.client.status === 'ready') done();
        else
          done(
            new RegistryUnavailableError(
              `registry: redis not available (${this.client.status}) after ${this.timeoutMs} ms`,
            ),
          );
      }, this.timeoutMs);
      this.readyWaiters.add(done);
    });
  }

  async close(): Promise<void> {
    const c = this.client;
    if (c.status === 'end') return;
    try {
      if (c.status === 'ready') await c.quit();
    } catch {
      // Closing anyway.
    } finally {
      c.disconnect();
    }
  }

  /** Ready, and in a cluster every master's connection too (those not yet opened are opened). */
  private commandsReady(): boolean {
    if (this.client.status !== 'ready') return false;
    if (!isCluster(this.client)) return true;
    let ready = true;
    for (const node of this.client.nodes('master')) {
      if (node.status === 'ready') continue;
      ready = false;
      // Failures show as 'node error'; the node leaves the pool and wakes the waiters.
      if (node.status === 'wait') node.connect().catch(() => undefined);
    }
    return ready;
  }

  private wakeWaiters(err?: Error): void {
    for (const w of [...this.readyWaiters]) w(err);
  }

  private onReady(): void {
    const again = this.everReady;
    this.everReady = true;
    if (this.outage) this.log?.info('redis connection ready');
    this.outage = false;
    if (this.commandsReady()) this.wakeWaiters();
    if (!again) return;
    for (const cb of this.reconnectHandlers) {
      Promise.resolve()
        .then(cb)
        .catch((err: unknown) =>
          this.log?.error({ err: (err as Error).message }, 'onReconnect handler failed'),
        );
    }
  }
}
