import {
  connect,
  DebugEvents,
  ErrorCode,
  Events,
  NatsError,
  type NatsConnection,
  type Subscription,
} from 'nats';
import { silentLogger, type Logger } from '../log/logger.ts';
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
import {
  Subject,
  type ControlReply,
  type ControlRequest,
  type ControlTarget,
  type EventBus,
  type EventMap,
} from './types.ts';

export interface NatsBusOptions {
  /** `nats://[user:pass@]host:port`, or several joined by commas. */
  url: string;
  /** Client name shown by the server (the node id). */
  name: string;
  log?: Logger;
  counters?: Counters;
}

/** Retry forever, every ~0.5 s: a node may start before NATS and must outlive its restarts. */
const RECONNECT_WAIT_MS = 500;
/** A server that stops answering is declared dead when 2 pings 1.5 s apart go unanswered (~4.5 s). */
const PING_INTERVAL_MS = 1500;
const MAX_PINGS_OUT = 2;
/** One dial (TCP + INFO/CONNECT) may take this long; a hung server must not stall reconnects for 20 s. */
const DIAL_TIMEOUT_MS = 5000;
/**
 * Events held while disconnected. nats.js v2 resets its outbound buffer on every dial, so
 * what it is given while down is lost; the bus keeps the last events itself and sends them
 * on reconnect. Heartbeats are not kept: the next one supersedes them.
 */
const OFFLINE_QUEUE_MAX = 1000;
/** close() drains (flushes what is pending) but never waits longer than this. */
const DRAIN_TIMEOUT_MS = 2000;

type Entry = { fn: (event: unknown) => void };
type Served = { subject: string; handler: ControlHandler; sub: Subscription | null };

/**
 * The event bus of a cluster node on NATS core (DESIGN.md "Cluster contract"). Constructing
 * it starts connecting in the background; until the first connection (and during outages)
 * publish queues, subscriptions are remembered, and nothing throws because NATS is down.
 */
export class NatsBus implements EventBus {
  /** Resolves on the first connection; rejects only if nats.js gives up (e.g. bad credentials). */
  readonly ready: Promise<void>;
  private readonly log: Logger;
  private readonly report: BusReporter;
  private nc: NatsConnection | null = null;
  private up = false;
  private closed = false;
  private readonly handlers = new Map<Subject, Set<Entry>>();
  private readonly subs = new Map<Subject, Subscription>();
  private readonly served = new Set<Served>();
  private readonly offline: { subject: Subject; data: string }[] = [];

  constructor(opts: NatsBusOptions) {
    const log = opts.log ?? silentLogger();
    this.log = 'component' in log.bindings() ? log : log.child({ component: 'nats-bus' });
    this.report = new BusReporter(this.log, opts.counters ?? new Counters());
    this.ready = this.start(opts);
    this.ready.catch((err: unknown) => this.log.error({ err }, 'NATS connection failed for good'));
  }

  /** Connects and resolves once connected (waiting for NATS to come up if need be). */
  static async connect(opts: NatsBusOptions): Promise<NatsBus> {
    const bus = new NatsBus(opts);
    await bus.ready;
    return bus;
  }

  get connected(): boolean {
    return this.up && !this.closed;
  }

  private async start(opts: NatsBusOptions): Promise<void> {
    const target = parseNatsUrl(opts.url);
    const nc = await connect({
      servers: target.servers,
      name: opts.name,
      ...target.auth,
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      waitOnFirstConnect: true,
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: MAX_PINGS_OUT,
      timeout: DIAL_TIMEOUT_MS,
    });
    if (this.closed) {
      await nc.close();
      return;
    }
    this.nc = nc;
    this.up = true;
    this.log.info({ servers: target.servers }, 'NATS connected');
    this.watch(nc).catch((err: unknown) => this.log.error({ err }, 'NATS status watch failed'));
    for (const subject of this.handlers.keys()) this.listen(nc, subject);
    for (const s of this.served) this.serve(nc, s);
    this.flushOffline();
  }

  /** Tracks the connection through nats.js status events. */
  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      switch (s.type) {
        case Events.Disconnect:
          this.up = false;
          if (!this.closed) this.log.warn({ server: s.data }, 'NATS disconnected; retrying');
          break;
        case Events.Reconnect:
          this.up = true;
          this.log.info({ server: s.data }, 'NATS reconnected');
          this.flushOffline();
          break;
        case DebugEvents.StaleConnection:
          this.log.warn('NATS server stopped answering pings');
          break;
        case Events.LDM:
          this.log.warn('NATS server entering lame duck mode');
          break;
        case Events.Error:
          this.log.warn({ err: s.data }, 'NATS async error');
          break;
        default:
          break;
      }
    }
    const err = await nc.closed();
    this.up = false;
    if (!this.closed) this.log.error({ err }, 'NATS connection closed');
  }

  publish<S extends Subject>(subject: S, event: EventMap[S]): void {
    const data = encodeEvent(subject, event);
    if (this.closed) this.report.dropped(subject, 'bus closed');
    else if (this.nc && this.up) this.send(this.nc, subject, data);
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
      this.subs.get(subject)?.unsubscribe();
      this.subs.delete(subject);
    };
  }

  /** One NATS subscription per subject, fanned out here: each message is decoded and validated once. */
  private listen(nc: NatsConnection, subject: Subject): void {
    const sub = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return this.log.warn({ err, subject }, 'NATS subscription error');
        const set = this.handlers.get(subject);
        if (!set?.size) return;
        const live = [...set].map((e) => (event: unknown) => {
          if (set.has(e)) e.fn(event);
        });
        dispatchEvent(subject, msg.data, live, this.report);
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
      served.sub?.unsubscribe();
      served.sub = null;
    };
  }

  private serve(nc: NatsConnection, served: Served): void {
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
    if (!nc || !this.up)
      throw new ControlError(ControlErrorCode.NotConnected, nodeId, 'NATS is not connected');
    try {
      const msg = await nc.request(subject, JSON.stringify(req), { timeout: timeoutMs });
      return decodeControlReply(nodeId, msg.data);
    } catch (e) {
      throw requestError(e, nodeId, timeoutMs);
    }
  }

  /** Resolves when the server has seen everything sent so far (immediately when disconnected). */
  async flush(): Promise<void> {
    if (this.nc && this.up) await this.nc.flush();
  }

  /** Drains (pending events go out, subscriptions end) within DRAIN_TIMEOUT_MS, then closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { subject } of this.offline.splice(0)) this.report.dropped(subject, 'bus closed');
    const nc = this.nc;
    if (!nc) return; // start() closes the connection if it ever comes up
    if (this.up) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((r) => (timer = setTimeout(r, DRAIN_TIMEOUT_MS)));
      await Promise.race([nc.drain().catch(() => {}), timeout]);
      clearTimeout(timer);
    }
    this.up = false;
    if (!nc.isClosed()) await nc.close();
  }
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

/** Splits credentials out of the URL(s): nats.js takes them as options, and logs must not show them. */
export function parseNatsUrl(url: string): {
  servers: string[];
  auth: { user: string; pass: string } | { token: string } | Record<string, never>;
} {
  let auth: { user: string; pass: string } | { token: string } | Record<string, never> = {};
  const servers = url.split(',').map((one) => {
    const u = new URL(one.trim());
    if (u.protocol !== 'nats:') throw new Error(`NATS URL must start with nats:// (got ${u.protocol}//)`);
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    if (user && pass) auth = { user, pass };
    else if (user) auth = { token: user };
    return `${u.hostname}:${u.port || '4222'}`;
  });
  return { servers, auth };
}
