import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { checkMs, checkNodeId, checkStreamKey } from './memory-registry.ts';
import {
  claimScript,
  refreshScript,
  releaseScript,
  setMediaScript,
  type LuaScript,
} from './redis-scripts.ts';
import type { ClaimResult, NodeInfo, StreamMediaInfo, StreamOwner, StreamRegistry } from './types.ts';

/**
 * The stream registry in Redis (DESIGN.md "Cluster contract"). Ownership changes are Lua
 * scripts (redis-scripts.ts) over one stream's keys; listing uses index sorted sets scored by
 * expiry instead of KEYS/SCAN. The indexes live in another hash slot, so they are updated by
 * separate commands and may be stale: readers re-check every entry against its own key.
 *
 * Keys (one hash tag per stream or node, Redis Cluster-compatible):
 *   <p>:{s:<key>}:owner  hash, PX lease      <p>:{s:<key>}:epoch  counter, never expires
 *   <p>:{n:<nodeId>}:info  NodeInfo JSON, PX ttl
 *   <p>:{idx}:streams  zset "<epoch>:<key>" -> expiresAt   <p>:{idx}:nodes  zset nodeId -> expiresAt
 */

export interface RedisRegistryOptions {
  /** redis://[[user]:password@]host:port/db (rediss:// for TLS). */
  url: string;
  /** Default 'sluice'. */
  keyPrefix?: string;
  log?: Logger;
  /** A call rejects after waiting this long for a connection, or this long for a reply. Default 1500. */
  timeoutMs?: number;
  /** Index entries this long past their expiry are pruned by readers. Default 60000. */
  indexSlackMs?: number;
}

const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

export class RedisRegistry implements StreamRegistry {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly log: Logger | undefined;
  private readonly timeoutMs: number;
  private readonly indexSlackMs: number;
  private readonly reconnectHandlers = new Set<() => unknown>();
  private readonly readyWaiters = new Set<(err?: Error) => void>();
  private everReady = false;
  private outage = false;

  constructor(opts: RedisRegistryOptions) {
    this.prefix = opts.keyPrefix ?? 'sluice';
    if (!PREFIX.test(this.prefix))
      throw new Error(`registry: invalid key prefix ${JSON.stringify(this.prefix)}`);
    this.log = opts.log;
    this.timeoutMs = opts.timeoutMs ?? 1500;
    this.indexSlackMs = opts.indexSlackMs ?? 60_000;
    this.redis = new Redis(opts.url, {
      lazyConnect: false,
      // RESP2: works with every Redis and proxy; nothing here needs RESP3.
      protocol: 2,
      // No offline queue: while Redis is down calls wait (bounded) in whenReady() and then
      // fail, instead of being queued and executed long after the caller gave up (a claim
      // nobody knows about). For the same reason in-flight commands are not resent.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 1,
      commandTimeout: this.timeoutMs,
      // Reconnect forever with capped backoff; the origin re-claims from onReconnect.
      retryStrategy: (attempt: number) => Math.min(200 * attempt, 2000),
    });
    this.redis.on('ready', () => this.onReady());
    this.redis.on('close', () => {
      if (this.everReady && !this.outage) {
        this.outage = true;
        this.log?.warn('redis connection lost');
      }
    });
    this.redis.on('error', (err: Error) => {
      // Every reconnect attempt fails the same way while Redis is down: log the first one.
      if (!this.outage) this.log?.warn({ err: err.message }, 'redis error');
      if (!this.everReady) this.outage = true;
    });
    this.redis.on('end', () => this.wakeWaiters(new Error('registry: redis connection closed')));
  }

  /** ioredis connection status: wait, connecting, connect, ready, close, reconnecting, end. */
  get status(): string {
    return this.redis.status;
  }

  /** Runs `cb` each time the connection is ready again after having been ready (a Redis restart loses claims). Returns unsubscribe. */
  onReconnect(cb: () => unknown): () => void {
    this.reconnectHandlers.add(cb);
    return () => this.reconnectHandlers.delete(cb);
  }

  async claim(key: string, nodeId: string, leaseMs: number): Promise<ClaimResult> {
    checkStreamKey(key);
    checkNodeId(nodeId);
    checkMs('leaseMs', leaseMs);
    const now = Date.now();
    const expiresAt = now + leaseMs;
    const r = await this.eval(
      claimScript,
      [this.ownerKey(key), this.epochKey(key)],
      [nodeId, now, leaseMs, expiresAt],
    );
    if (!Array.isArray(r)) throw new Error('registry: unexpected claim reply');
    if (r[0] === 1) {
      const epoch = Number(r[1]);
      await this.index(this.redis.zadd(this.streamsIdx(), expiresAt, `${epoch}:${key}`));
      return { ok: true, epoch };
    }
    const [, owner, epoch, since, exp, media] = r as [number, string, string, string, string, string];
    return { ok: false, owner: toOwner(key, { nodeId: owner, epoch, since, expiresAt: exp, media }) };
  }

  async refresh(key: string, nodeId: string, epoch: number, leaseMs: number): Promise<boolean> {
    checkStreamKey(key);
    checkMs('leaseMs', leaseMs);
    const now = Date.now();
    const expiresAt = now + leaseMs;
    const r = await this.eval(refreshScript, [this.ownerKey(key)], [nodeId, epoch, now, leaseMs, expiresAt]);
    if (r !== 1) return false;
    await this.index(this.redis.zadd(this.streamsIdx(), expiresAt, `${epoch}:${key}`));
    return true;
  }

  async release(key: string, nodeId: string, epoch: number): Promise<boolean> {
    checkStreamKey(key);
    const r = await this.eval(releaseScript, [this.ownerKey(key)], [nodeId, epoch, Date.now()]);
    if (r !== 1) return false;
    // The member carries the epoch, so this never removes the entry of a claim made since.
    await this.index(this.redis.zrem(this.streamsIdx(), `${epoch}:${key}`));
    return true;
  }

  async setMediaInfo(key: string, nodeId: string, epoch: number, media: StreamMediaInfo): Promise<void> {
    checkStreamKey(key);
    await this.eval(setMediaScript, [this.ownerKey(key)], [nodeId, epoch, Date.now(), JSON.stringify(media)]);
  }

  async lookup(key: string): Promise<StreamOwner | null> {
    checkStreamKey(key);
    await this.whenReady();
    const h = await this.redis.hgetall(this.ownerKey(key));
    return liveOwner(key, h, Date.now());
  }

  async listStreams(): Promise<StreamOwner[]> {
    const now = Date.now();
    const members = await this.liveMembers(this.streamsIdx(), now);
    const keys = [...new Set(members.map((m) => m.slice(m.indexOf(':') + 1)))];
    if (keys.length === 0) return [];
    const p = this.redis.pipeline();
    for (const k of keys) p.hgetall(this.ownerKey(k));
    const replies = await exec(p);
    const out: StreamOwner[] = [];
    keys.forEach((k, i) => {
      const o = liveOwner(k, replies[i] as Record<string, string>, now);
      if (o) out.push(o);
    });
    return out;
  }

  async registerNode(info: NodeInfo, ttlMs: number): Promise<void> {
    checkNodeId(info.nodeId);
    checkMs('ttlMs', ttlMs);
    await this.whenReady();
    await this.redis.set(this.nodeKey(info.nodeId), JSON.stringify(info), 'PX', ttlMs);
    await this.index(this.redis.zadd(this.nodesIdx(), Date.now() + ttlMs, info.nodeId));
  }

  async unregisterNode(nodeId: string): Promise<void> {
    checkNodeId(nodeId);
    await this.whenReady();
    await this.redis.del(this.nodeKey(nodeId));
    await this.index(this.redis.zrem(this.nodesIdx(), nodeId));
  }

  async getNode(nodeId: string): Promise<NodeInfo | null> {
    checkNodeId(nodeId);
    await this.whenReady();
    return this.parseNode(await this.redis.get(this.nodeKey(nodeId)));
  }

  async listNodes(): Promise<NodeInfo[]> {
    const ids = await this.liveMembers(this.nodesIdx(), Date.now());
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.get(this.nodeKey(id));
    const replies = await exec(p);
    const out: NodeInfo[] = [];
    for (const r of replies) {
      const n = this.parseNode(r as string | null);
      if (n) out.push(n);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    try {
      if (this.redis.status === 'ready') await this.redis.quit();
    } catch {
      // Closing anyway.
    } finally {
      this.redis.disconnect();
    }
  }

  private ownerKey = (key: string): string => `${this.prefix}:{s:${key}}:owner`;
  private epochKey = (key: string): string => `${this.prefix}:{s:${key}}:epoch`;
  private nodeKey = (nodeId: string): string => `${this.prefix}:{n:${nodeId}}:info`;
  private streamsIdx = (): string => `${this.prefix}:{idx}:streams`;
  private nodesIdx = (): string => `${this.prefix}:{idx}:nodes`;

  /** Index members whose expiry is after `now`; prunes entries long expired in the same round trip (same slot). */
  private async liveMembers(idx: string, now: number): Promise<string[]> {
    await this.whenReady();
    const p = this.redis.pipeline();
    p.zremrangebyscore(idx, '-inf', `(${now - this.indexSlackMs}`);
    p.zrangebyscore(idx, `(${now}`, '+inf');
    const [, members] = await exec(p);
    return members as string[];
  }

  /** Index updates follow a successful change; if one fails the next refresh or register repairs it. */
  private async index(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'registry index update failed');
    }
  }

  private parseNode(json: string | null): NodeInfo | null {
    if (json === null) return null;
    try {
      return JSON.parse(json) as NodeInfo;
    } catch {
      this.log?.warn('registry: unreadable node record');
      return null;
    }
  }

  /** EVALSHA, loading the script on NOSCRIPT (first use, or after a Redis restart). */
  private async eval(s: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
    await this.whenReady();
    try {
      return await this.redis.evalsha(s.sha1, s.numKeys, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.redis.eval(s.lua, s.numKeys, ...keys, ...args);
    }
  }

  /** Resolves once connected; rejects after `timeoutMs` (Redis down) or when closed. */
  private whenReady(): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    if (this.redis.status === 'end') return Promise.reject(new Error('registry: redis connection closed'));
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        this.readyWaiters.delete(done);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(
        () =>
          done(new Error(`registry: redis not available (${this.redis.status}) after ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      this.readyWaiters.add(done);
    });
  }

  private wakeWaiters(err?: Error): void {
    for (const w of [...this.readyWaiters]) w(err);
  }

  private onReady(): void {
    const again = this.everReady;
    this.everReady = true;
    if (this.outage) this.log?.info('redis connection ready');
    this.outage = false;
    this.wakeWaiters();
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

/** A pipeline's replies; rejects with the first command error. */
async function exec(p: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const res = (await p.exec()) ?? [];
  return res.map(([err, v]) => {
    if (err) throw err;
    return v;
  });
}

function liveOwner(key: string, h: Record<string, string>, now: number): StreamOwner | null {
  if (h.nodeId === undefined || h.expiresAt === undefined) return null;
  const o = toOwner(key, h);
  return o.expiresAt > now ? o : null;
}

function toOwner(key: string, h: Record<string, string | undefined>): StreamOwner {
  let media: StreamMediaInfo = {};
  try {
    media = JSON.parse(h.media ?? '{}') as StreamMediaInfo;
  } catch {
    // Written by us as JSON; an unreadable value only costs the scheduler its codec hints.
  }
  return {
    key,
    nodeId: h.nodeId ?? '',
    epoch: Number(h.epoch),
    since: Number(h.since),
    expiresAt: Number(h.expiresAt),
    media,
  };
}
