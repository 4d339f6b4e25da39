import { ErrorCode, NatsError, type NatsConnection, type Subscription } from 'nats';
import { silentLogger, type Logger } from '../log/logger.ts';
import { Inbox } from './inbox.ts';
import { Counters } from '../metrics/counters.ts';
import {
  answerControl,
  BusReporter,
  ControlError,
  ControlErrorCode,
  controlSubject,
  decodeControlReply,
  dispatchEvent,
  encodeEvent,
  targetName,
  type ControlHandler,
} from './event-schemas.ts';
import { NatsLink } from './nats-link.ts';
import type { NatsSettings } from './nats-settings.ts';
import {
  Subject,
  type ControlReply,
  type ControlRequest,
  type ControlTarget,
  type EventBus,
  type EventMap,
} from './types.ts';

export interface NatsBusOptions {
  /** `nats://` or `tls://`, `[user:pass@ | token@]host:port`, or several joined by commas. */
  url: string;
  /** Optional security files (see NatsSettings); '' = none. */
  credsFile?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Client name shown by the server (the node id). */
  name: string;
  log?: Logger;
  counters?: Counters;
}

/**
 * Events held while disconnected. nats.js v2 resets its outbound buffer on every dial, so
 * what it is given while down is lost; the bus keeps the last events itself and sends them
 * on reconnect. Heartbeats are not kept: the next one supersedes them.
 */
const OFFLINE_QUEUE_MAX = 1000;

type Entry = { fn: (event: unknown) => void };
/** A queue-group subscription: one NATS subscription per (subject, queue), fanned out like subscribe. */
type Group = { subject: Subject; queue: string; handlers: Set<Entry>; sub: Subscription | null };
type Served = { subject: string; handler: ControlHandler; sub: Subscription | null };

/**
 * The event bus of a cluster node on NATS core (DESIGN.md "Cluster contract"). Constructing
 * it starts connecting in the background (NatsLink: retries forever, every failure logged and
 * counted); until the first connection (and during outages) publish queues, subscriptions are
 * remembered, and nothing throws because NATS is down or refuses us.
 */
export class NatsBus implements EventBus {
  /** Resolves on the first connection (or on close() before one); never rejects. */
  readonly ready: Promise<void>;
  private readonly log: Logger;
  private readonly report: BusReporter;
  private readonly link: NatsLink;
  /** The live connection; null while down. */
  private nc: NatsConnection | null = null;
  private closed = false;
  private readonly handlers = new Map<Subject, Set<Entry>>();
  private readonly subs = new Map<Subject, Subscription>();
  /** Received events wait here and are handled a slice per event-loop turn, in order. */
  private readonly groups = new Map<string, Group>();
  private readonly inbox = new Inbox<{ subject: Subject; data: Uint8Array; group?: Group }>(
    (m) => this.deliver(m),
    {
      onError: (e, m) => this.report.handlerFailed(m.subject, e),
    },
  );
  private readonly served = new Set<Served>();
  private readonly offline: { subject: Subject; data: string }[] = [];

  /** Throws NatsSettingsError (naming the setting) when the URL or a file is unusable. */
  constructor(opts: NatsBusOptions) {
    const log = opts.log ?? silentLogger();
    this.log = 'component' in log.bindings() ? log : log.child({ component: 'nats-bus' });
    const counters = opts.counters ?? new Counters();
    this.report = new BusReporter(this.log, counters);
    this.link = new NatsLink({
      settings: natsSettingsOf(opts),
      name: opts.name,
      log: this.log,
      counters,
      onUp: (nc) => this.attach(nc),
      onDown: () => this.detach(),
    });
    this.ready = this.link.ready;
  }

  /** Connects and resolves once connected (waiting for NATS to come up if need be). */
  static async connect(opts: NatsBusOptions): Promise<NatsBus> {
    const bus = new NatsBus(opts);
    await bus.ready;
    return bus;
  }

  get connected(): boolean {
    return this.nc !== null && !this.closed;
  }

  /** A new connection: subscriptions first (so the node hears its own queued events), then the queue. */
  private attach(nc: NatsConnection): void {
    this.nc = nc;
    this.subs.clear();
    for (const subject of this.handlers.keys()) this.listen(nc, subject);
    for (const g of this.groups.values()) this.listenGroup(nc, g);
    for (const s of this.served) this.serve(nc, s);
    this.flushOffline();
  }

  private detach(): void {
    this.nc = null;
    this.subs.clear();
    for (const s of this.served) s.sub = null;
    for (const g of this.groups.values()) g.sub = null;
  }

  publish<S extends Subject>(subject: S, event: EventMap[S]): void {
    const data = encodeEvent(subject, event);
    if (this.closed) this.report.dropped(subject, 'bus closed');
    else if (this.nc) this.send(this.nc, subject, data);
    else this.hold(subject, data);
  }

  private send(nc: NatsConnection, subject: string, data: string): void {
    try {
      nc.publish(subject, data);
    } catch (e) {
      this.report.dropped(subject, (e as Error).message);
    }
  }

  private hold(subject: Subject, data: string): void {
    if (subject === Subject.NodeHeartbeat) {
      this.report.dropped(subject, 'disconnected');
      return;
    }
    if (this.offline.length >= OFFLINE_QUEUE_MAX)
      this.report.dropped(this.offline.shift()!.subject, 'offline queue full');
    this.offline.push({ subject, data });
  }

  private flushOffline(): void {
    const nc = this.nc;
    if (!nc) return;
    for (const { subject, data } of this.offline.splice(0)) this.send(nc, subject, data);
  }

  subscribe<S extends Subject>(subject: S, handler: (event: EventMap[S]) => void): () => void {
    if (this.closed) return () => {};
    let set = this.handlers.get(subject);
    if (!set) {
      this.handlers.set(subject, (set = new Set()));
      if (this.nc) this.listen(this.nc, subject);
    }
    const entry: Entry = { fn: handler as (event: unknown) => void };
    set.add(entry);
    return () => {
      if (!set.delete(entry) || set.size > 0 || this.handlers.get(subject) !== set) return;
      this.handlers.delete(subject);
      unsubscribe(this.subs.get(subject));
      this.subs.delete(subject);
    };
  }

  subscribeQueue<S extends Subject>(
    subject: S,
    queue: string,
    handler: (event: EventMap[S]) => void,
  ): () => void {
    if (this.closed) return () => {};
    const id = `${subject}\n${queue}`;
    let g = this.groups.get(id);
    if (!g) {
      g = { subject, queue, handlers: new Set(), sub: null };
      this.groups.set(id, g);
      if (this.nc) this.listenGroup(this.nc, g);
    }
    const group = g;
    const entry: Entry = { fn: handler as (event: unknown) => void };
    group.handlers.add(entry);
    return () => {
      if (!group.handlers.delete(entry) || group.handlers.size > 0 || this.groups.get(id) !== group) return;
      this.groups.delete(id);
      unsubscribe(group.sub);
      group.sub = null;
    };
  }

  private listenGroup(nc: NatsConnection, g: Group): void {
    if (nc.isClosed()) return;
    g.sub = nc.subscribe(g.subject, {
      queue: g.queue,
      callback: (err, msg) => {
        if (err) return this.log.warn({ err, subject: g.subject, queue: g.queue }, 'NATS subscription error');
        if (!this.inbox.push({ subject: g.subject, data: msg.data, group: g }))
          this.report.dropped(g.subject, 'inbox full');
      },
    });
  }

  /** One NATS subscription per subject, fanned out here: each message is decoded and validated once. */
  /** Decodes, validates and hands one received event to the subject's (or its queue group's) handlers. */
  private deliver({ subject, data, group }: { subject: Subject; data: Uint8Array; group?: Group }): void {
    if (this.closed) return;
    const set = group ? group.handlers : this.handlers.get(subject);
    if (!set?.size) return;
    const live = [...set].map((e) => (event: unknown) => {
      if (set.has(e)) e.fn(event);
    });
    dispatchEvent(subject, data, live, this.report);
  }

  private listen(nc: NatsConnection, subject: Subject): void {
    if (nc.isClosed()) return; // attach() subscribes again on the next connection
    const sub = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return this.log.warn({ err, subject }, 'NATS subscription error');
        if (!this.inbox.push({ subject, data: msg.data })) this.report.dropped(subject, 'inbox full');
      },
    });
    this.subs.set(subject, sub);
  }

  serveControl(target: ControlTarget, handler: ControlHandler): () => void {
    const served: Served = { subject: controlSubject(target), handler, sub: null };
    if (this.closed) return () => {};
    this.served.add(served);
    if (this.nc) this.serve(this.nc, served);
    return () => {
      this.served.delete(served);
      unsubscribe(served.sub);
      served.sub = null;
    };
  }

  private serve(nc: NatsConnection, served: Served): void {
    if (nc.isClosed()) return;
    served.sub = nc.subscribe(served.subject, {
      callback: (err, msg) => {
        if (err) return this.log.warn({ err, subject: served.subject }, 'NATS subscription error');
        if (!msg.reply)
          return this.report.invalid(served.subject, ['control request without a reply subject']);
        void answerControl(served.subject, msg.data, served.handler, this.report).then((reply) => {
          try {
            msg.respond(reply);
          } catch (e) {
            this.report.dropped(served.subject, (e as Error).message);
          }
        });
      },
    });
  }

  async requestControl(target: ControlTarget, req: ControlRequest, timeoutMs: number): Promise<ControlReply> {
    const subject = controlSubject(target);
    const nodeId = targetName(target);
    if (this.closed) throw new ControlError(ControlErrorCode.Closed, nodeId, 'event bus closed');
    const nc = this.nc;
    if (!nc) throw new ControlError(ControlErrorCode.NotConnected, nodeId, 'NATS is not connected');
    try {
      const msg = await nc.request(subject, JSON.stringify(req), { timeout: timeoutMs });
      return decodeControlReply(nodeId, msg.data);
    } catch (e) {
      throw requestError(e, nodeId, timeoutMs);
    }
  }

  /** Resolves when the server has seen everything sent so far (immediately when disconnected). */
  async flush(): Promise<void> {
    if (this.nc) await this.nc.flush().catch(() => {});
  }

  /** Drains (pending events go out, subscriptions end) within a bounded time, then closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { subject } of this.offline.splice(0)) this.report.dropped(subject, 'bus closed');
    await this.link.close();
    this.nc = null;
  }
}

/** nats.js throws when unsubscribing on a connection that just closed; then there is nothing to undo. */
function unsubscribe(sub: Subscription | null | undefined): void {
  try {
    sub?.unsubscribe();
  } catch {
    // the connection is gone, and the subscription with it
  }
}

function natsSettingsOf(o: NatsBusOptions): NatsSettings {
  const s: NatsSettings = { natsUrl: o.url };
  if (o.credsFile) s.natsCredsFile = o.credsFile;
  if (o.caFile) s.natsCaFile = o.caFile;
  if (o.certFile) s.natsCertFile = o.certFile;
  if (o.keyFile) s.natsKeyFile = o.keyFile;
  return s;
}

/** Maps nats.js request failures to the contract's rejections. */
function requestError(e: unknown, nodeId: string, timeoutMs: number): ControlError {
  if (e instanceof ControlError) return e;
  const code = e instanceof NatsError ? e.code : '';
  if (code === (ErrorCode.NoResponders as string)) {
    return new ControlError(ControlErrorCode.NoResponders, nodeId, `no node ${nodeId} serves control`, {
      cause: e,
    });
  }
  if (code === (ErrorCode.Timeout as string)) {
    const msg = `control request to ${nodeId} timed out after ${timeoutMs} ms`;
    return new ControlError(ControlErrorCode.Timeout, nodeId, msg, { cause: e });
  }
  const msg = `control request to ${nodeId} failed: ${(e as Error).message}`;
  return new ControlError(ControlErrorCode.Failed, nodeId, msg, { cause: e });
}
