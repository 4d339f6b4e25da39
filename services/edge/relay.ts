import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import {
  Subject,
  type EventBus,
  type StreamOwner,
  type StreamPublishedEvent,
  type StreamRegistry,
} from '../../libs/cluster/types.ts';
import { isProtocolError } from '../../libs/errors/protocol-error.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { RtmpClient } from '../../libs/rtmp/client-connection.ts';
import { StatusCode } from '../../libs/rtmp/commands.ts';
import { MessageType } from '../../libs/rtmp/message-types.ts';
import {
  MediaKind,
  type PublisherHandle,
  type SegmentMark,
  type StreamHub,
} from '../../libs/stream/index.ts';
import { classifyRtmpMedia } from '../node/classify.ts';
import { decodeSegmentMark, looksLikeSegmentMark } from '../node/segment-mark-wire.ts';
import { RELAY_CREDENTIAL_PROP, RELAY_EPOCH_PROP } from '../node/cluster-config.ts';
import { emit } from '../node/emit.ts';
import type { Holder } from '../../libs/cluster/types.ts';
import { equalJitter, Wake } from './wake.ts';
import type { RelayPullEnd, RelayPullInfo } from '../node/hooks.ts';

export interface RelayOptions {
  /** First and longest wait between attempts (doubling in between, with jitter). */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Bound on connect + play of one attempt. */
  pullTimeoutMs: number;
  /** While nobody owns the key, look it up again at least this often (NATS may be down). */
  ownerPollMs: number;
  /** A live pull that delivers no media this long is ended and the owner resolved again. */
  receiveTimeoutMs: number;
  /** With no owner this long (the viewers' own wait), the relay gives up. */
  noOwnerGiveUpMs: number;
}

export interface RelayDeps {
  holder: Holder;
  hub: StreamHub;
  registry: StreamRegistry;
  bus: EventBus;
  secret: string;
  log: Logger;
  counters: Counters;
  opts: RelayOptions;
  /** Once per relay, at its first media: seconds since the relay started (its latency metric). */
  firstMedia?: (startSeconds: number) => void;
  /** The relay went live / ended (MediaNode.relayPullStarted/Stopped: webhooks). */
  pullEvents?: { started(r: RelayPullInfo): void; stopped(r: RelayPullEnd): void };
}

/** While live, the owner is re-checked every ownerPollMs times this (a cheap Redis read). */
const LIVE_OWNER_CHECK_FACTOR = 3;

/**
 * One stream pulled from its owning origin into this edge's hub (DESIGN "Edges pull on demand").
 * Loops until stopped: resolve the owner, pull over RTMP with the relay credential and the
 * epoch resolved, feed the hub as the stream's publisher; when the pull ends (origin gone,
 * unpublished, silent past receiveTimeoutMs, or a move confirmed in the registry), resolve
 * again and reconnect with jittered backoff. Viewers stay attached meanwhile and the hub keeps
 * their timestamps increasing. Only a higher epoch, confirmed in the registry, moves a live
 * relay: stale, replayed or forged events do not.
 */
export class Relay {
  readonly key: string;
  private readonly d: RelayDeps;
  private readonly log: Logger;
  private readonly wake = new Wake();
  private stopped = false;
  private stopReason = '';
  private client: RtmpClient | null = null;
  private handle: PublisherHandle | null = null;
  /** The claim the current (or last) pull was made for: the epoch this relay follows. */
  private following: StreamOwner | null = null;
  private confirming = false;
  /** Another confirmation was asked for while one ran: run it again after. */
  private confirmAgain = false;
  private lastLookupWarn = -Infinity;
  /** Ends the live pull now (set while one runs). */
  private endPull: (why: string) => void = () => {};
  /** When the first viewer asked; for the relay-start latency log. */
  private readonly requestedAt = Date.now();
  private readonly startedAtMono = performance.now();
  private everLive = false;
  private everMedia = false;
  /** Called when the relay stops by itself (no owner within the viewers' wait). */
  onGiveUp: (reason: string) => void = () => {};

  constructor(key: string, d: RelayDeps) {
    this.key = key;
    this.d = d;
    this.log = d.log.child({ stream: key });
  }

  get live(): boolean {
    return this.handle !== null;
  }

  /** It has delivered media at least once. */
  get everDelivered(): boolean {
    return this.everLive;
  }

  get ownerNodeId(): string | null {
    return this.following?.nodeId ?? null;
  }

  start(): void {
    void this.run();
  }

  /**
   * A stream.published event for our key. One for an epoch not above the one we follow is
   * stale, replayed or forged: ignored. A higher one is confirmed in the registry first;
   * only then does a live relay move (or, from the same process re-claiming, just follow the
   * new epoch). A waiting relay simply looks up the owner now.
   */
  onPublished(e: StreamPublishedEvent): void {
    if (this.stopped) return;
    const cur = this.following;
    if (cur && e.epoch <= cur.epoch) {
      this.d.counters.inc('relay_events_ignored', 1, { reason: 'stale_epoch' });
      return;
    }
    if (!this.client) {
      this.wake.fire();
      return;
    }
    void this.confirmMove('event');
  }

  stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopReason = reason;
    this.log.info({ reason }, 'relay stopping');
    this.wake.fire();
    this.endPull(reason);
    this.client?.close();
    this.detach();
  }

  /** Looks the owner up; moves a live pull only to a higher epoch the registry confirms. */
  private async confirmMove(source: 'event' | 'poll'): Promise<void> {
    if (this.confirming) {
      // Its lookup may predate the claim this event announces: look again when it is done.
      this.confirmAgain ||= source === 'event';
      return;
    }
    this.confirming = true;
    let owner: StreamOwner | null;
    try {
      owner = await this.d.registry.lookup(this.key);
    } catch {
      return; // cannot confirm: keep what we have
    } finally {
      this.confirming = false;
      if (this.confirmAgain) {
        this.confirmAgain = false;
        void this.confirmMove('event');
      }
    }
    const cur = this.following;
    if (this.stopped || !this.client || !cur) return;
    if (!owner || owner.epoch <= cur.epoch) {
      if (source === 'event') this.d.counters.inc('relay_events_ignored', 1, { reason: 'unconfirmed' });
      return;
    }
    if (owner.instanceId === cur.instanceId) {
      // The same origin process claimed again (e.g. after a Redis restart): same stream, new epoch.
      this.following = owner;
      this.log.info(
        { owner: owner.nodeId, epoch: owner.epoch },
        'owner re-claimed the stream; following its epoch',
      );
      return;
    }
    this.log.info(
      { from: cur.nodeId, fromEpoch: cur.epoch, to: owner.nodeId, toEpoch: owner.epoch },
      'stream moved to another origin (confirmed in the registry), following it',
    );
    this.d.counters.inc('relay_owner_moved');
    this.wake.fire();
    this.endPull(`moved to ${owner.nodeId} (epoch ${owner.epoch})`);
  }

  private async run(): Promise<void> {
    let backoff = this.d.opts.reconnectMinMs;
    let noOwnerSince: number | null = null;
    while (!this.stopped) {
      this.wake.reset();
      const owner = await this.d.registry.lookup(this.key).catch((e: unknown) => {
        this.lookupFailed(e);
        return null;
      });
      if (this.stopped) break;
      if (!owner) {
        const now = performance.now();
        noOwnerSince ??= now;
        // Viewers wait on their own clock (stream.waitPublisherMs): while one waits, so do we.
        if (now - noOwnerSince >= this.d.opts.noOwnerGiveUpMs && this.viewers() === 0) {
          this.d.counters.inc('relays_given_up');
          this.log.info(
            { waitedMs: Math.round(now - noOwnerSince) },
            'no origin owns the stream; relay gives up',
          );
          this.onGiveUp('no owner');
          break;
        }
        await this.wake.sleep(this.d.opts.ownerPollMs);
        continue;
      }
      noOwnerSince = null;
      const ended = await this.pull(owner);
      if (this.stopped) break;
      if (ended === 'failed') this.d.counters.inc('relays_failed');
      if (ended === 'was-live') backoff = this.d.opts.reconnectMinMs;
      this.d.counters.inc('relay_reconnects');
      // Jittered so that every edge of a failed origin does not come back at the same instant;
      // an event (a new owner) cuts the wait short, still after a small random delay.
      const woken = await this.wake.sleep(equalJitter(backoff));
      if (woken && !this.stopped) await sleepMs(Math.random() * this.d.opts.reconnectMinMs);
      backoff = Math.min(backoff * 2, this.d.opts.reconnectMaxMs);
    }
  }

  private viewers(): number {
    return this.d.hub.get(this.key)?.subscriberCount ?? 0;
  }

  /** A registry outage fails every lookup of every relay: one line per relay every 10 s. */
  private lookupFailed(e: unknown): void {
    const now = performance.now();
    if (now - this.lastLookupWarn < 10_000) return;
    this.lastLookupWarn = now;
    this.log.warn({ err: (e as Error).message }, 'owner lookup failed');
  }

  /** The owner's internal RTMP address: stored with its claim, else from its node record. */
  private async addressOf(owner: StreamOwner): Promise<string | null> {
    if (owner.relayAddr) return owner.relayAddr;
    const node = await this.d.registry.getNode(owner.nodeId).catch(() => null);
    return node && node.instanceId === owner.instanceId ? (node.internal.rtmp ?? null) : null;
  }

  /** One pull from `owner`; resolves when it ends. */
  private async pull(owner: StreamOwner): Promise<'failed' | 'was-live'> {
    const addr = await this.addressOf(owner);
    if (!addr) {
      this.log.warn({ owner: owner.nodeId }, 'owner has no reachable RTMP address');
      return 'failed';
    }
    let client: RtmpClient;
    try {
      client = await RtmpClient.connect(`rtmp://${addr}/${this.key}`, {
        timeoutMs: this.d.opts.pullTimeoutMs,
        connectArgs: { [RELAY_CREDENTIAL_PROP]: this.d.secret, [RELAY_EPOCH_PROP]: owner.epoch },
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
    this.following = owner;
    // The pull is over at the first of: the socket closed, the stream unpublished, silence, a
    // confirmed move, stop(). Not when close() has finished: a hung origin never acks our FIN.
    const closed = new Promise<string>((resolve) => {
      this.endPull = (why) => {
        resolve(why);
        client.close();
      };
      client.onClose = (err) => resolve(err ? err.message : 'origin closed the relay');
      client.onStatus = (info) => {
        if (info.code === StatusCode.PlayUnpublishNotify || info.code === StatusCode.PlayStop) {
          this.endPull('stream unpublished at the origin');
        }
      };
    });
    let badFrames = 0;
    let pendingMark: SegmentMark | null = null;
    // Monotonic: a wall-clock step must neither silence nor fire the receive timeout.
    let lastMediaAt = performance.now();
    client.onMedia = (msg) => {
      lastMediaAt = performance.now();
      // The hub sees the relay as the publisher from its first frame (media can follow
      // Play.Start in the same read, before play() resolves).
      if (!this.handle) this.attach(owner);
      if (!this.everMedia) {
        this.everMedia = true;
        this.d.firstMedia?.((performance.now() - this.startedAtMono) / 1000);
      }
      try {
        if (msg.typeId === MessageType.DataAmf0 && looksLikeSegmentMark(msg.payload)) {
          // The owner's HLS cut: it applies to the next frame.
          pendingMark = decodeSegmentMark(msg.typeId, msg.payload);
          return;
        }
        const frame = classifyRtmpMedia(msg);
        if (frame && pendingMark && frame.kind !== MediaKind.Data && !frame.isSequenceHeader) {
          frame.segment = pendingMark;
          pendingMark = null;
        }
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
      this.detach();
      this.client = null;
      return 'failed';
    }
    lastMediaAt = performance.now();
    this.logLive(owner);
    emit(this.d.bus, this.log, Subject.RelayStarted, this.event(owner));
    const pullInfo: RelayPullInfo = {
      key: this.key,
      sessionId: `relay:${owner.nodeId}:${owner.epoch}`,
      protocol: 'rtmp',
      url: `rtmp://${addr}/${this.key}`,
      fromNodeId: owner.nodeId,
      epoch: owner.epoch,
    };
    this.d.pullEvents?.started(pullInfo);
    // A hung origin (stopped process, stuck event loop) keeps the socket open: watch for media.
    const receiveCheckMs = Math.max(50, Math.floor(this.d.opts.receiveTimeoutMs / 4));
    const receive = setInterval(() => {
      const silentFor = Math.round(performance.now() - lastMediaAt);
      if (silentFor < this.d.opts.receiveTimeoutMs) return;
      this.d.counters.inc('relay_receive_timeouts');
      this.endPull(`no media for ${silentFor} ms`);
    }, receiveCheckMs);
    receive.unref();
    // Events announce a move at once; this check covers a move while NATS is away.
    const watch = setInterval(
      () => void this.confirmMove('poll'),
      this.d.opts.ownerPollMs * LIVE_OWNER_CHECK_FACTOR,
    );
    watch.unref();
    const closedWhy = await closed;
    clearInterval(receive);
    clearInterval(watch);
    // When we stopped it ourselves, that is the reason, not the close it caused.
    const why = this.stopped ? this.stopReason : closedWhy;
    this.client = null;
    this.endPull = () => {};
    this.detach();
    const stoppedEvent = { ...this.event(this.following ?? owner), reason: why.slice(0, 200) };
    emit(this.d.bus, this.log, Subject.RelayStopped, stoppedEvent);
    this.d.pullEvents?.stopped({ ...pullInfo, reason: stoppedEvent.reason });
    if (!this.stopped) this.log.warn({ owner: owner.nodeId, why }, 'relay lost, re-resolving');
    return 'was-live';
  }

  private logLive(owner: StreamOwner): void {
    const fields = { owner: owner.nodeId, epoch: owner.epoch };
    if (this.everLive) {
      this.log.info(fields, 'relay live again');
      return;
    }
    this.everLive = true;
    this.log.info({ ...fields, startMs: Date.now() - this.requestedAt }, 'relay live');
  }

  private event(owner: StreamOwner): {
    v: 1;
    nodeId: string;
    instanceId: string;
    ts: number;
    key: string;
    fromNodeId: string;
    epoch: number;
  } {
    return {
      v: 1,
      nodeId: this.d.holder.nodeId,
      instanceId: this.d.holder.instanceId,
      ts: Date.now(),
      key: this.key,
      fromNodeId: owner.nodeId,
      epoch: owner.epoch,
    };
  }

  private attach(owner: StreamOwner): void {
    if (this.handle) return;
    this.handle = this.d.hub
      .getOrCreate(this.key)
      .attachPublisher(`relay:${owner.nodeId}:${owner.epoch}`, { marksFromSource: true });
  }

  private detach(): void {
    if (!this.handle) return;
    this.d.hub.get(this.key)?.detachPublisher(this.handle);
    this.handle = null;
  }
}

const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());
