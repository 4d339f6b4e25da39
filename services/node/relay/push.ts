import type { Logger } from 'pino';
import type { Counters } from '../../../libs/metrics/counters.ts';
import { RtmpClient } from '../../../libs/rtmp/client-connection.ts';
import {
  EndReason,
  type OutputFormat,
  type Sink,
  type StreamHub,
  type StreamStartInfo,
  type Subscriber,
} from '../../../libs/stream/index.ts';
import type { RelayInfo } from '../control-types.ts';
import { rtmpFormat } from '../formats.ts';
import { sessionId } from '../session-id.ts';
import { backoffMs, HEALTHY_AFTER_MS } from './backoff.ts';
import { redactRelayUrl } from './redact.ts';

export interface PushSettings {
  key: string;
  url: string;
  timeoutMs: number;
  origin: RelayInfo['origin'];
}

export interface PushDeps {
  hub: StreamHub;
  counters: Counters;
  log: Logger;
  onChange: (info: RelayInfo) => void;
  /** The push is over (its stream ended, or stop()); its manager forgets it. */
  onEnded: (push: RelayPush) => void;
}

/**
 * The publishing RTMP client as a viewer of the hub: the stream's shared RTMP chunks (made for
 * the client's stream id and chunk size) go straight to its socket, under the stream's byte
 * budget and stall timeout like any viewer, so a slow target never holds up the publisher.
 */
class PushSink implements Sink {
  readonly id: string;
  readonly format: OutputFormat;
  readonly protocol = 'rtmp-push';
  /** Out of the write window: the target's own viewers should not wait for it as well. */
  readonly coalesce = false;
  private readonly client: RtmpClient;
  private readonly ended: (reason: EndReason) => void;

  constructor(id: string, client: RtmpClient, ended: (reason: EndReason) => void) {
    this.id = id;
    this.client = client;
    this.ended = ended;
    this.format = rtmpFormat(client.streamId, client.outChunkSize);
  }

  get bufferedBytes(): number {
    return this.client.bufferedBytes;
  }

  start(_info: StreamStartInfo): void {}

  write(buf: Buffer): void {
    this.client.sendRaw(buf);
  }

  cork(): void {
    this.client.socket.cork();
  }

  uncork(): void {
    this.client.socket.uncork();
  }

  end(reason: EndReason): void {
    this.ended(reason);
  }
}

/**
 * Pushes one live local stream to one RTMP(S) URL (lal relay_push, SRS forward), reconnecting
 * with backoff (1 s doubling to 30 s) while the stream has a publisher; over when the stream
 * ends (its viewers' wait for a returning publisher ran out) or on stop(). The target URL's
 * stream name (a CDN stream key) and query are never logged.
 */
export class RelayPush {
  readonly id = sessionId('push');
  private readonly cfg: PushSettings;
  private readonly deps: PushDeps;
  private readonly log: Logger;
  private readonly safeUrl: string;
  private client: RtmpClient | null = null;
  private sub: Subscriber | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private state: RelayInfo['state'] = 'connecting';
  private attempts = 0;
  private failuresInARow = 0;
  private liveAt: number | null = null;
  private lastError: string | null = null;
  private readonly startedAt = Date.now();
  private stopped = false;

  constructor(cfg: PushSettings, deps: PushDeps) {
    this.cfg = cfg;
    this.deps = deps;
    this.safeUrl = redactRelayUrl(cfg.url, { hideName: true });
    this.log = deps.log.child({ push: this.id, stream: cfg.key, url: this.safeUrl });
  }

  get key(): string {
    return this.cfg.key;
  }

  get url(): string {
    return this.cfg.url;
  }

  info(): RelayInfo {
    return {
      id: this.id,
      key: this.cfg.key,
      url: this.safeUrl,
      origin: this.cfg.origin,
      state: this.state,
      attempts: this.attempts,
      startedAt: this.startedAt,
      lastError: this.lastError,
    };
  }

  start(): void {
    void this.connect();
  }

  stop(reason = 'stopped'): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.detach();
    this.client?.close();
    this.client = null;
    this.setState('stopped');
    this.log.info({ reason }, 'relay push stopped');
    this.deps.onEnded(this);
  }

  private setState(s: RelayInfo['state']): void {
    this.state = s;
    try {
      this.deps.onChange(this.info());
    } catch (err) {
      this.log.error({ err }, 'relay push observer failed');
    }
  }

  private live(): boolean {
    return this.deps.hub.get(this.cfg.key)?.hasPublisher ?? false;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    if (!this.live()) {
      this.stop('stream ended');
      return;
    }
    this.attempts++;
    this.setState('connecting');
    let client: RtmpClient;
    try {
      client = await RtmpClient.connect(this.cfg.url, { timeoutMs: this.cfg.timeoutMs });
    } catch (e) {
      this.failed(e as Error);
      return;
    }
    if (this.stopped) {
      client.close();
      return;
    }
    this.client = client;
    client.onClose = (err) => {
      if (this.client !== client) return;
      this.failed(err ?? new Error('the target closed the connection'));
    };
    try {
      await client.publish();
    } catch (e) {
      if (this.client === client) this.failed(e as Error);
      return;
    }
    if (this.stopped || this.client !== client) return;
    const stream = this.deps.hub.get(this.cfg.key);
    if (!stream?.hasPublisher) {
      this.stop('stream ended');
      return;
    }
    const sink = new PushSink(this.id, client, (reason) => this.sinkEnded(client, reason));
    this.sub = stream.addSubscriber(sink);
    this.liveAt = performance.now();
    this.lastError = null;
    this.deps.counters.inc('relay_push_connects');
    this.setState('running');
    this.log.info({ attempt: this.attempts }, 'relay push connected');
  }

  /** The hub ended our viewer: the stream is over, or the target stalled (then: reconnect). */
  private sinkEnded(client: RtmpClient, reason: EndReason): void {
    if (this.client !== client) return;
    this.sub = null;
    if (reason === EndReason.Stalled) {
      this.failed(new Error('the target stopped reading (stalled)'), 'RELAY_PUSH_STALLED');
      return;
    }
    this.stop('stream ended');
  }

  private failed(err: Error, code = errorCode(err)): void {
    if (this.stopped) return;
    this.detach();
    const c = this.client;
    this.client = null;
    if (c) {
      c.onClose = null;
      c.close();
    }
    const healthy = this.liveAt !== null && performance.now() - this.liveAt >= HEALTHY_AFTER_MS;
    if (healthy) this.failuresInARow = 0;
    this.liveAt = null;
    this.failuresInARow++;
    this.lastError = `${code}: ${err.message}`.slice(0, 300);
    this.deps.counters.inc('relay_push_failures', 1, { code });
    const delayMs = backoffMs(this.failuresInARow);
    this.log.warn(
      { code, err: err.message, attempt: this.attempts, retryInMs: delayMs },
      'relay push failed',
    );
    this.setState('backoff');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delayMs);
    this.retryTimer.unref();
  }

  private detach(): void {
    const sub = this.sub;
    this.sub = null;
    if (sub) this.deps.hub.get(this.cfg.key)?.removeSubscriber(sub);
  }
}

/** A stable, bounded label from a client error's code, else 'error'. */
function errorCode(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Za-z_.]{1,60}$/.test(code) ? code : 'error';
}
