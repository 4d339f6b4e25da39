import { connect, DebugEvents, Events, type NatsConnection } from 'nats';
import type { Logger } from '../log/logger.ts';
import type { Counters } from '../metrics/counters.ts';
import { NatsConnectReport } from './nats-failures.ts';
import { checkNatsSettings, natsAuthOptions, type NatsSettings } from './nats-settings.ts';
import type { NatsTarget } from './nats-url.ts';

/** First retry after a failed round; doubles per consecutive failed round up to the max (plus jitter). */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 2000;
/** A server that stops answering is declared dead when 2 pings 1.5 s apart go unanswered (~4.5 s). */
const PING_INTERVAL_MS = 1500;
const MAX_PINGS_OUT = 2;
/** One dial (TCP + TLS + INFO/CONNECT) may take this long; a hung server must not stall retries for 20 s. */
const DIAL_TIMEOUT_MS = 5000;
/** close() drains (flushes what is pending) but never waits longer than this. */
const DRAIN_TIMEOUT_MS = 2000;

export interface NatsLinkOptions {
  settings: NatsSettings;
  /** Client name shown by the server (the node id). */
  name: string;
  log: Logger;
  counters: Counters;
  /** A connection is up: (re)create subscriptions, flush what was held. */
  onUp(nc: NatsConnection): void;
  /** The connection is gone; nothing may be sent on it any more. */
  onDown(): void;
}

/**
 * Keeps one NATS connection up for as long as it is open, with its own retry loop rather than
 * nats.js's: nats.js v2 gives up for good after two authorization errors in a row (unless
 * `ignoreAuthErrorAbort`) and swallows the cause of every failed dial while it retries, so bad
 * credentials or an untrusted certificate would look like silence. Here each attempt is a
 * fresh `connect()` without reconnect, whose failure is classified, counted and logged
 * (NatsConnectReport); it retries forever, reading the security files again each time.
 */
export class NatsLink {
  /** Resolves on the first connection, or when the link is closed before one. */
  readonly ready: Promise<void>;
  readonly target: NatsTarget;
  private readonly o: NatsLinkOptions;
  private readonly report: NatsConnectReport;
  private nc: NatsConnection | null = null;
  private closed = false;
  private wake: (() => void) | null = null;
  private markReady!: () => void;

  /** Throws NatsSettingsError when the settings are unusable (bad URL, unreadable file). */
  constructor(o: NatsLinkOptions) {
    this.o = o;
    this.target = checkNatsSettings(o.settings);
    this.report = new NatsConnectReport(o.log, o.counters, this.target.servers);
    this.ready = new Promise((r) => (this.markReady = r));
    this.run().catch((err: unknown) => o.log.error({ err }, 'NATS link loop failed'));
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const nc = await this.dialAny();
      if (this.closed) {
        await nc?.close();
        break;
      }
      if (!nc) {
        failures++;
        await this.pause(retryDelay(failures));
        continue;
      }
      failures = 0;
      this.nc = nc;
      this.report.connected(nc.getServer());
      try {
        this.o.onUp(nc);
      } catch (err) {
        // A bug on the caller's side must not end the loop: the next connection tries again.
        this.o.log.error({ err }, 'setting up a NATS connection failed');
      }
      this.markReady();
      await this.watch(nc);
    }
    this.markReady();
  }

  /**
   * One round: each server once, in random order (nodes spread over the cluster), one
   * `connect()` per server so every failure is reported with the server it came from.
   */
  private async dialAny(): Promise<NatsConnection | null> {
    for (const server of shuffled(this.target.servers)) {
      if (this.closed) return null;
      try {
        return await connect(this.options(server));
      } catch (err) {
        if (!this.closed) this.report.failed(err, server);
      }
    }
    return null;
  }

  private options(server: string): Parameters<typeof connect>[0] {
    return {
      servers: [server],
      name: this.o.name,
      // Read here, per attempt, so rotated creds or certificates apply without a restart.
      ...natsAuthOptions(this.target, this.o.settings, server),
      reconnect: false,
      ignoreClusterUpdates: true,
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: MAX_PINGS_OUT,
      timeout: DIAL_TIMEOUT_MS,
    };
  }

  /** Follows one connection until it closes; reports why it ended unless we closed it. */
  private async watch(nc: NatsConnection): Promise<void> {
    let stale = false;
    let down = false;
    const goDown = (): void => {
      if (down) return;
      down = true;
      if (this.nc === nc) this.nc = null;
      this.o.onDown();
    };
    // nats.js never ends a connection's status iterator, even once closed: read it on the
    // side (Disconnect comes first, so senders stop at once) and wait for closed() here.
    const statuses = nc.status();
    void (async () => {
      for await (const s of statuses) {
        if (s.type === DebugEvents.StaleConnection) stale = true;
        else if (s.type === Events.Disconnect) goDown();
        else if (s.type === Events.LDM) this.o.log.warn('NATS server entering lame duck mode');
        else if (s.type === Events.Error)
          this.report.serverError(typeof s.data === 'string' ? s.data : 'UNKNOWN', s.permissionContext);
      }
    })();
    const err = await nc.closed();
    (statuses as { stop?: () => void }).stop?.();
    goDown();
    if (!this.closed) this.report.lost(err, stale);
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    }).finally(() => (this.wake = null));
  }

  get connection(): NatsConnection | null {
    return this.nc;
  }

  /** Drains a live connection (pending messages go out) within DRAIN_TIMEOUT_MS, then closes it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    const nc = this.nc;
    if (!nc) return; // run() closes a connection that comes up after this
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, DRAIN_TIMEOUT_MS)));
    await Promise.race([nc.drain().catch(() => {}), timeout]);
    clearTimeout(timer);
    if (!nc.isClosed()) await nc.close();
  }
}

function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Delay after a round in which every server failed. */
function retryDelay(failures: number): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures - 1, 8));
  // Up to 20% jitter, so nodes that lost NATS together do not retry in lockstep.
  return Math.round(base * (1 + Math.random() * 0.2));
}
