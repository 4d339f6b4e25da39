import type { ChainableCommander } from 'ioredis';
import type { Logger } from 'pino';
import { checkEpoch, checkHolder, checkInstanceId, checkMs, checkNodeId, checkStreamKey } from './checks.ts';
import { isCluster, type RedisClient } from './redis-client.ts';
import { RedisConnection } from './redis-connection.ts';
import { parseRedisUrl } from './redis-url.ts';
import {
  claimScript,
  indexLiveScript,
  indexTouchScript,
  presenceScript,
  presenceTouchScript,
  refreshScript,
  releaseScript,
  setMediaScript,
  unregisterScript,
  type LuaScript,
} from './redis-scripts.ts';
import type {
  ClaimOptions,
  ClaimResult,
  Holder,
  NodeInfo,
  NodePresence,
  NodeStreamInfo,
  PresenceChanges,
  RegisterResult,
  StreamMediaInfo,
  StreamOwner,
  StreamRegistry,
} from './types.ts';

/**
 * The stream registry in Redis (DESIGN.md "Cluster contract"). Ownership changes are Lua
 * scripts (redis-scripts.ts) over one stream's keys; listing uses index sorted sets scored by
 * expiry (by Redis's clock) instead of KEYS/SCAN. The indexes live in another hash slot, so
 * they are updated by separate commands and may be stale: readers re-check every entry
 * against its own key, whose PX expiry is the truth.
 *
 * Keys (one hash tag per stream or node, Redis Cluster-compatible):
 *   <p>:{s:<key>}:owner  hash, PX lease      <p>:{s:<key>}:epoch  counter, never expires
 *   <p>:{n:<nodeId>}:info  NodeInfo JSON, PX ttl      <p>:{n:<nodeId>}:streams  presence hash, PX ttl
 *   <p>:{idx}:streams  zset "<epoch>:<key>" -> expiry   <p>:{idx}:nodes  zset nodeId -> expiry
 *
 * Runs on one server, a Sentinel-managed master or a Redis Cluster (redis-url.ts): every
 * script and pipeline touches the keys of one hash tag only, and reads of many keys are
 * separate commands, which a cluster client sends to each key's node.
 */

export interface RedisRegistryOptions {
  /** redis://, redis-sentinel:// or redis-cluster:// (rediss… for TLS): see redis-url.ts. */
  url: string;
  /** Default 'sluice'. */
  keyPrefix?: string;
  log?: Logger;
  /** A call rejects after waiting this long for a connection, or this long for a reply. Default 1500. */
  timeoutMs?: number;
  /** Index entries this long past their expiry are pruned by readers. Default 60000. */
  indexSlackMs?: number;
  /**
   * CLIENT SETNAME of this process's connection; it must end in `:<instanceId>` for
   * instanceConnected() to find the process. Default: none.
   */
  clientName?: string;
}

const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Index members read per round trip when listing. */
const INDEX_PAGE = 1000;
/** Keys read per round trip when listing. */
const LIST_SLICE = 50;
const CLIENT_NAME = /^[!-~]{1,200}$/;

export class RedisRegistry implements StreamRegistry {
  private readonly conn: RedisConnection;
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly log: Logger | undefined;
  private readonly indexSlackMs: number;

  /** Throws RedisUrlError on a bad URL. */
  constructor(opts: RedisRegistryOptions) {
    this.prefix = opts.keyPrefix ?? 'sluice';
    if (!PREFIX.test(this.prefix))
      throw new Error(`registry: invalid key prefix ${JSON.stringify(this.prefix)}`);
    if (opts.clientName !== undefined && !CLIENT_NAME.test(opts.clientName))
      throw new Error(`registry: invalid client name ${JSON.stringify(opts.clientName)}`);
    this.log = opts.log;
    this.indexSlackMs = opts.indexSlackMs ?? 60_000;
    this.conn = new RedisConnection(parseRedisUrl(opts.url), {
      timeoutMs: opts.timeoutMs ?? 1500,
      log: opts.log,
      ...(opts.clientName ? { connectionName: opts.clientName } : {}),
    });
    this.redis = this.conn.client;
  }

  /** ioredis connection status: wait, connecting, connect, ready, close, reconnecting, end. */
  get status(): string {
    return this.conn.status;
  }

  /** Runs `cb` each time the connection is ready again after having been ready (a Redis restart loses claims). Returns unsubscribe. */
  onReconnect(cb: () => unknown): () => void {
    return this.conn.onReconnect(cb);
  }

  async claim(key: string, holder: Holder, leaseMs: number, opts: ClaimOptions = {}): Promise<ClaimResult> {
    checkStreamKey(key);
    checkHolder(holder);
    checkMs('leaseMs', leaseMs);
    if (opts.takeoverEpoch !== undefined) checkEpoch(opts.takeoverEpoch);
    const r = await this.eval(
      claimScript,
      [this.ownerKey(key), this.epochKey(key)],
      [holder.nodeId, holder.instanceId, leaseMs, opts.relayAddr ?? '', opts.takeoverEpoch ?? 0],
    );
    if (!Array.isArray(r)) throw new Error('registry: unexpected claim reply');
    if (r[0] === 1) {
      const epoch = Number(r[1]);
      await this.index(this.streamsIdx(), `${epoch}:${key}`, leaseMs);
      return { ok: true, epoch };
    }
    const [, nodeId, instanceId, epoch, since, pttl, addr, media] = r as string[];
    return {
      ok: false,
      owner: toOwner(key, { nodeId, instanceId, epoch, since, addr, media }, Number(pttl)),
    };
  }

  async refresh(key: string, holder: Holder, epoch: number, leaseMs: number): Promise<boolean> {
    checkStreamKey(key);
    checkMs('leaseMs', leaseMs);
    const r = await this.eval(refreshScript, [this.ownerKey(key)], [holder.instanceId, epoch, leaseMs]);
    if (r !== 1) return false;
    await this.index(this.streamsIdx(), `${epoch}:${key}`, leaseMs);
    return true;
  }

  async release(key: string, holder: Holder, epoch: number): Promise<boolean> {
    checkStreamKey(key);
    checkEpoch(epoch);
    const r = await this.eval(releaseScript, [this.ownerKey(key)], [holder.instanceId, epoch]);
    if (r !== 1) return false;
    // The member carries the epoch, so this never removes the entry of a claim made since.
    await this.unindex(this.streamsIdx(), `${epoch}:${key}`);
    return true;
  }

  async releaseAny(key: string, holder: Holder): Promise<boolean> {
    checkStreamKey(key);
    // The index entry (epoch unknown here) is pruned by readers once its score has passed.
    return (await this.eval(releaseScript, [this.ownerKey(key)], [holder.instanceId, ''])) === 1;
  }

  async setMediaInfo(key: string, holder: Holder, epoch: number, media: StreamMediaInfo): Promise<void> {
    checkStreamKey(key);
    await this.eval(setMediaScript, [this.ownerKey(key)], [holder.instanceId, epoch, JSON.stringify(media)]);
  }

  async lookup(key: string): Promise<StreamOwner | null> {
    checkStreamKey(key);
    await this.whenReady();
    return this.readOwner(key);
  }

  async listStreams(): Promise<StreamOwner[]> {
    const members = await this.liveMembers(this.streamsIdx());
    const keys = [...new Set(members.map((m) => m.slice(m.indexOf(':') + 1)))];
    const out: StreamOwner[] = [];
    // A slice at a time: ten thousand replies parsed in one go would stall the caller's event
    // loop for a quarter of a second (a scheduler routing meanwhile would stall with it).
    for (let i = 0; i < keys.length; i += LIST_SLICE) {
      for (const o of await this.readOwners(keys.slice(i, i + LIST_SLICE))) if (o) out.push(o);
    }
    return out;
  }

  async listStreamEpochs(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const m of await this.liveMembers(this.streamsIdx())) {
      const i = m.indexOf(':');
      const epoch = Number(m.slice(0, i));
      const key = m.slice(i + 1);
      // A key may have entries of several epochs until the old ones' scores pass: the highest is current.
      if (epoch > (out.get(key) ?? 0)) out.set(key, epoch);
    }
    return out;
  }

  listNodeIds(): Promise<string[]> {
    return this.liveMembers(this.nodesIdx());
  }

  async registerNode(info: NodeInfo, ttlMs: number): Promise<RegisterResult> {
    checkHolder(info);
    checkMs('ttlMs', ttlMs);
    await this.whenReady();
    const prev = await this.redis.set(this.nodeKey(info.nodeId), JSON.stringify(info), 'PX', ttlMs, 'GET');
    await this.index(this.nodesIdx(), info.nodeId, ttlMs);
    const prevInstance = this.parseNode(prev)?.instanceId ?? null;
    return {
      previousInstanceId: prevInstance !== null && prevInstance !== info.instanceId ? prevInstance : null,
    };
  }

  async unregisterNode(holder: Holder): Promise<void> {
    checkHolder(holder);
    const deleted = await this.eval(
      unregisterScript,
      [this.nodeKey(holder.nodeId), this.presenceKey(holder.nodeId)],
      [holder.instanceId],
    );
    if (deleted === 1) await this.unindex(this.nodesIdx(), holder.nodeId);
  }

  async getNode(nodeId: string): Promise<NodeInfo | null> {
    checkNodeId(nodeId);
    await this.whenReady();
    return this.parseNode(await this.redis.get(this.nodeKey(nodeId)));
  }

  async listNodes(): Promise<NodeInfo[]> {
    const ids = await this.liveMembers(this.nodesIdx());
    const records = await Promise.all(ids.map((id) => this.redis.get(this.nodeKey(id))));
    return records.map((r) => this.parseNode(r)).filter((n): n is NodeInfo => n !== null);
  }

  async writePresence(
    holder: Holder,
    seq: number,
    changes: PresenceChanges,
    full: boolean,
    ttlMs: number,
  ): Promise<void> {
    checkHolder(holder);
    checkMs('ttlMs', ttlMs);
    const pairs: string[] = [];
    for (const [key, info] of Object.entries(changes)) {
      checkStreamKey(key);
      pairs.push(key, info ? JSON.stringify(info) : '');
    }
    const key = this.presenceKey(holder.nodeId);
    const args = [holder.instanceId, seq, full ? '1' : '0', ttlMs];
    if ((await this.eval(presenceScript, [key], [...args, ...pairs])) === 1 || full) return;
    // Missing (expired) or another instance's: this change alone would be incomplete.
    throw new Error('registry: presence record missing; write it in full');
  }

  async touchPresence(holder: Holder, ttlMs: number): Promise<boolean> {
    checkMs('ttlMs', ttlMs);
    const r = await this.eval(
      presenceTouchScript,
      [this.presenceKey(holder.nodeId)],
      [holder.instanceId, ttlMs],
    );
    return r === 1;
  }

  async getPresence(nodeId: string): Promise<NodePresence | null> {
    checkNodeId(nodeId);
    await this.whenReady();
    const h = await this.redis.hgetall(this.presenceKey(nodeId));
    const instanceId = h['#instance'];
    if (instanceId === undefined) return null;
    const streams: Record<string, NodeStreamInfo> = {};
    for (const [k, v] of Object.entries(h)) {
      if (k.startsWith('#')) continue;
      const info = parseStreamInfo(v);
      if (info) streams[k] = info;
    }
    return { nodeId, instanceId, seq: Number(h['#seq'] ?? 0), streams };
  }

  /**
   * CLIENT LIST (O(clients), run only to prove an owner dead before a takeover): is a
   * connection named `…:<instanceId>` open? A process connected to a Redis Cluster holds
   * connections to the masters it used, so every master is asked: found on any is proof of
   * life, absent from all is proof of death, and a master that cannot answer (down, or the
   * command refused by ACL) makes it null: cannot tell. With Sentinel, the current master.
   */
  async instanceConnected(instanceId: string): Promise<boolean | null> {
    checkInstanceId(instanceId);
    await this.whenReady();
    const client = this.redis;
    if (isCluster(client)) {
      // The masters as the cluster has them now, not as this client last saw them.
      const refreshed = await new Promise<boolean>((resolve) =>
        client.refreshSlotsCache((err) => resolve(!err)),
      );
      if (!refreshed) {
        this.log?.warn('cluster slots refresh failed: cannot prove an owner dead');
        return null;
      }
    }
    const masters = this.conn.masters();
    if (masters.length === 0) return null;
    const lists = await Promise.all(
      masters.map((m) =>
        m.call('CLIENT', 'LIST', 'TYPE', 'normal').then(String, (e: unknown) => {
          const node = `${m.options.host}:${m.options.port}`;
          this.log?.warn(
            { err: (e as Error).message, node },
            'CLIENT LIST failed: cannot prove an owner dead',
          );
          return null;
        }),
      ),
    );
    const suffix = `:${instanceId}`;
    for (const list of lists) {
      for (const line of list?.split('\n') ?? []) {
        const m = / name=(\S+)/.exec(line);
        if (m?.[1]?.endsWith(suffix)) return true;
      }
    }
    return lists.includes(null) ? null : false;
  }

  async close(): Promise<void> {
    await this.conn.close();
  }

  private ownerKey = (key: string): string => `${this.prefix}:{s:${key}}:owner`;
  private epochKey = (key: string): string => `${this.prefix}:{s:${key}}:epoch`;
  private nodeKey = (nodeId: string): string => `${this.prefix}:{n:${nodeId}}:info`;
  private presenceKey = (nodeId: string): string => `${this.prefix}:{n:${nodeId}}:streams`;
  private streamsIdx = (): string => `${this.prefix}:{idx}:streams`;
  private nodesIdx = (): string => `${this.prefix}:{idx}:nodes`;

  /**
   * Owners of several keys in one round trip: one pipeline on a single server (or Sentinel's
   * master); on a Redis Cluster, where a pipeline must stay in one slot, one per key.
   */
  private async readOwners(keys: string[]): Promise<(StreamOwner | null)[]> {
    if (isCluster(this.redis)) return Promise.all(keys.map((k) => this.readOwner(k)));
    const p = this.redis.pipeline();
    for (const k of keys) p.hgetall(this.ownerKey(k)).pttl(this.ownerKey(k));
    const replies = await exec(p);
    return keys.map((k, i) => {
      const hash = replies[2 * i] as Record<string, string>;
      const pttl = replies[2 * i + 1] as number;
      return hash.nodeId === undefined || pttl === -2 ? null : toOwner(k, hash, pttl);
    });
  }

  /** The owner hash and its remaining lease, in one round trip (same key, same slot). */
  private async readOwner(key: string): Promise<StreamOwner | null> {
    const [h, pttl] = await exec(this.redis.pipeline().hgetall(this.ownerKey(key)).pttl(this.ownerKey(key)));
    const hash = h as Record<string, string>;
    // PX expiry is Redis's: a hash it returns is live; -2 means it expired in between.
    if (hash.nodeId === undefined || (pttl as number) === -2) return null;
    return toOwner(key, hash, pttl as number);
  }

  /** Index members not expired by Redis's clock (prunes long-expired ones). */
  private async liveMembers(idx: string): Promise<string[]> {
    const first = await this.eval(indexLiveScript, [idx], [this.indexSlackMs, INDEX_PAGE]);
    if (!Array.isArray(first) || first.length === 0) return [];
    const [now, ...members] = first as string[];
    // A page at a time: one reply of tens of thousands of members would hold the caller's event
    // loop for milliseconds. Members that move meanwhile may be missed or seen twice; callers
    // re-check each against its own key.
    for (let page = members.length; page === INDEX_PAGE;) {
      const more = await this.redis.zrangebyscore(
        idx,
        `(${now}`,
        '+inf',
        'LIMIT',
        members.length,
        INDEX_PAGE,
      );
      members.push(...more);
      page = more.length;
    }
    return members;
  }

  /** Index updates follow a successful change; if one fails the next refresh or register repairs it. */
  private async index(idx: string, member: string, ttlMs: number): Promise<void> {
    await this.indexing(this.eval(indexTouchScript, [idx], [member, ttlMs]));
  }

  private async unindex(idx: string, member: string): Promise<void> {
    await this.indexing(this.redis.zrem(idx, member));
  }

  private async indexing(p: Promise<unknown>): Promise<void> {
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

  /** Resolves once commands can go out; rejects after `timeoutMs` (Redis down) or when closed. */
  private whenReady(): Promise<void> {
    return this.conn.whenReady();
  }
}

/** A pipeline's replies; rejects with the first command error. */
async function exec(p: ChainableCommander): Promise<unknown[]> {
  const res = (await p.exec()) ?? [];
  return res.map(([err, v]) => {
    if (err) throw err;
    return v;
  });
}

function toOwner(key: string, h: Record<string, string | undefined>, pttl: number): StreamOwner {
  let media: StreamMediaInfo = {};
  try {
    media = JSON.parse(h.media ?? '{}') as StreamMediaInfo;
  } catch {
    // Written by us as JSON; an unreadable value only costs the scheduler its codec hints.
  }
  return {
    key,
    nodeId: h.nodeId ?? '',
    instanceId: h.instanceId ?? '',
    epoch: Number(h.epoch),
    since: Number(h.since),
    // -1 (no expiry) cannot happen for claims; report it as 0 rather than a negative lease.
    ttlMs: Math.max(0, pttl),
    relayAddr: h.addr ?? '',
    media,
  };
}

function parseStreamInfo(json: string): NodeStreamInfo | null {
  try {
    const v = JSON.parse(json) as Partial<NodeStreamInfo>;
    if (typeof v.viewers !== 'number' || typeof v.relaying !== 'boolean' || typeof v.publishing !== 'boolean')
      return null;
    return { viewers: v.viewers, relaying: v.relaying, publishing: v.publishing };
  } catch {
    return null;
  }
}
