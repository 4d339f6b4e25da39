import type { Logger } from 'pino';
import { Subject, type EventBus, type StreamOwner, type StreamRegistry } from '../../libs/cluster/types.ts';
import { isProtocolError } from '../../libs/errors/protocol-error.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { RtmpClient } from '../../libs/rtmp/client-connection.ts';
import { StatusCode } from '../../libs/rtmp/commands.ts';
import type { PublisherHandle, StreamHub } from '../../libs/stream/index.ts';
import { classifyRtmpMedia } from '../node/classify.ts';
import { RELAY_CREDENTIAL_PROP } from '../node/cluster-config.ts';
import { emit } from '../node/emit.ts';

export interface RelayOptions {
  /** First and longest wait between attempts (doubling in between). */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Bound on connect + play of one attempt. */
  pullTimeoutMs: number;
  /** While nobody owns the key, look it up again at least this often (NATS may be down). */
  ownerPollMs: number;
}

export interface RelayDeps {
  nodeId: string;
  hub: StreamHub;
  registry: StreamRegistry;
  bus: EventBus;
  secret: string;
  log: Logger;
  counters: Counters;
  opts: RelayOptions;
}

/** While live, the owner is re-checked every ownerPollMs times this (a cheap Redis read). */
const LIVE_OWNER_CHECK_FACTOR = 3;

const sleep = (ms: number, wake: Promise<void>): Promise<void> =>
  Promise.race([new Promise<void>((r) => setTimeout(r, ms).unref()), wake]);

/**
 * One stream pulled from its owning origin into this edge's hub (DESIGN "Edges pull on demand").
 * Loops until stopped: resolve the owner, pull over RTMP with the relay credential, feed the hub
 * as the stream's publisher; when the pull ends, re-resolve (new owner, new epoch) and reconnect
 * with backoff. Viewers stay attached meanwhile and the hub keeps their timestamps increasing.
 */
export class Relay {
  readonly key: string;
  private readonly d: RelayDeps;
  private readonly log: Logger;
  private stopped = false;
  private stopReason = '';
  private client: RtmpClient | null = null;
  private handle: PublisherHandle | null = null;
  private owner: StreamOwner | null = null;
  private wakeUp: () => void = () => {};
  private wakePromise: Promise<void> = Promise.resolve();
  /** When the first viewer asked; for the relay-start latency log. */
  private readonly requestedAt = Date.now();
  private everLive = false;

  constructor(key: string, d: RelayDeps) {
    this.key = key;
    this.d = d;
    this.log = d.log.child({ stream: key });
    this.resetWake();
  }

  get live(): boolean {
    return this.handle !== null;
  }

  get ownerNodeId(): string | null {
    return this.owner?.nodeId ?? null;
  }

  start(): void {
    void this.run();
  }

  /**
   * A publish event for our key: stop waiting and look the owner up now. If it was published on
   * another node than the one we pull from, that origin only holds our pull as a waiting viewer
   * (until its grace runs out), so drop it and follow the new owner at once.
   */
  onPublished(nodeId: string): void {
    if (this.client && this.owner && this.owner.nodeId !== nodeId) {
      this.log.info(
        { from: this.owner.nodeId, to: nodeId },
        'stream published on another origin, following it',
      );
      this.d.counters.inc('relay_owner_moved');
      this.client.close();
    }
    this.wakeUp();
  }

  stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopReason = reason;
    this.log.info({ reason }, 'relay stopping');
    this.wakeUp();
    this.client?.close();
    this.detach(reason);
  }

  private resetWake(): void {
    this.wakePromise = new Promise((r) => (this.wakeUp = r));
  }

  private async run(): Promise<void> {
    let backoff = this.d.opts.reconnectMinMs;
    while (!this.stopped) {
      const owner = await this.d.registry.lookup(this.key).catch((e: unknown) => {
        this.log.warn({ err: (e as Error).message }, 'owner lookup failed');
        return null;
      });
      if (this.stopped) break;
      if (!owner) {
        await sleep(this.d.opts.ownerPollMs, this.wakePromise);
        this.resetWake();
        continue;
      }
      const ended = await this.pull(owner);
      if (this.stopped) break;
      if (ended === 'was-live') backoff = this.d.opts.reconnectMinMs;
      this.d.counters.inc('relay_reconnects');
      await sleep(backoff, this.wakePromise);
      this.resetWake();
      backoff = Math.min(backoff * 2, this.d.opts.reconnectMaxMs);
    }
  }

  /** One pull from `owner`; resolves when it ends. */
  private async pull(owner: StreamOwner): Promise<'failed' | 'was-live'> {
    const node = await this.d.registry.getNode(owner.nodeId).catch(() => null);
    const addr = node?.internal.rtmp;
    if (!addr) {
      this.log.warn({ owner: owner.nodeId }, 'owner has no reachable RTMP address');
      return 'failed';
    }
    let client: RtmpClient;
    try {
      client = await RtmpClient.connect(`rtmp://${addr}/${this.key}`, {
        timeoutMs: this.d.opts.pullTimeoutMs,
        connectArgs: { [RELAY_CREDENTIAL_PROP]: this.d.secret },
      });
    } catch (e) {
      this.log.warn({ owner: owner.nodeId, addr, err: (e as Error).message }, 'relay connect failed');
      return 'failed';
    }
    if (this.stopped) {
      client.close();
      return 'failed';
    }
    this.client = client;
    const closed = new Promise<string>((resolve) => {
      client.onClose = (err) => resolve(err ? err.message : 'origin closed the relay');
      client.onStatus = (info) => {
        if (info.code === StatusCode.PlayUnpublishNotify || info.code === StatusCode.PlayStop) {
          resolve('stream unpublished at the origin');
          client.close();
        }
      };
    });
    let badFrames = 0;
    client.onMedia = (msg) => {
      // The hub sees the relay as the publisher from its first frame (media can follow
      // Play.Start in the same read, before play() resolves).
      if (!this.handle) this.attach(owner);
      try {
        const frame = classifyRtmpMedia(msg);
        if (frame && this.handle) this.d.hub.getOrCreate(this.key).write(this.handle, frame);
      } catch (e) {
        if (!isProtocolError(e)) throw e;
        if (badFrames++ === 0) this.log.warn({ code: e.code }, 'malformed relayed frame skipped');
      }
    };
    try {
      await client.play();
    } catch (e) {
      this.log.warn({ owner: owner.nodeId, err: (e as Error).message }, 'relay play failed');
      client.close();
      this.detach('play failed');
      this.client = null;
      return 'failed';
    }
    if (!this.everLive) {
      this.everLive = true;
      this.log.info(
        { owner: owner.nodeId, epoch: owner.epoch, startMs: Date.now() - this.requestedAt },
        'relay live',
      );
    } else {
      this.log.info({ owner: owner.nodeId, epoch: owner.epoch }, 'relay live again');
    }
    emit(this.d.bus, this.log, Subject.RelayStarted, this.event(owner));
    // Events announce a move at once; this check covers a move while NATS is away.
    const watch = setInterval(() => {
      this.d.registry
        .lookup(this.key)
        .then((o) => {
          if (o) this.onPublished(o.nodeId);
        })
        .catch(() => undefined);
    }, this.d.opts.ownerPollMs * LIVE_OWNER_CHECK_FACTOR);
    watch.unref();
    const closedWhy = await closed;
    clearInterval(watch);
    // When we stopped it ourselves, that is the reason, not the close it caused.
    const why = this.stopped ? this.stopReason : closedWhy;
    this.client = null;
    this.detach(why);
    emit(this.d.bus, this.log, Subject.RelayStopped, { ...this.event(owner), reason: why.slice(0, 200) });
    if (!this.stopped) this.log.warn({ owner: owner.nodeId, why }, 'relay lost, re-resolving');
    return 'was-live';
  }

  private event(owner: StreamOwner): {
    v: 1;
    nodeId: string;
    ts: number;
    key: string;
    fromNodeId: string;
    epoch: number;
  } {
    return {
      v: 1,
      nodeId: this.d.nodeId,
      ts: Date.now(),
      key: this.key,
      fromNodeId: owner.nodeId,
      epoch: owner.epoch,
    };
  }

  private attach(owner: StreamOwner): void {
    if (this.handle) return;
    this.owner = owner;
    this.handle = this.d.hub.getOrCreate(this.key).attachPublisher(`relay:${owner.nodeId}:${owner.epoch}`);
  }

  private detach(_why: string): void {
    if (!this.handle) return;
    this.d.hub.get(this.key)?.detachPublisher(this.handle);
    this.handle = null;
  }
}
