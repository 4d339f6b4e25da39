import { get as httpGet, type ClientRequest } from 'node:http';
import WebSocket from 'ws';
import { TS_PACKET_SIZE } from '../../libs/mpegts/index.ts';
import type { StreamLatency } from './latency-probe.ts';
import { describeError, newPlayerStats, type BenchPlayer } from './players.ts';
import { TsPacketScanner } from './ts-scanner.ts';

/** A WebSocket-TS message is a run of whole packets; far bigger ones are not what Sluice sends. */
const MAX_WS_MESSAGE_BYTES = 8 * 1024 * 1024;

/** The TS bookkeeping both transports share: scanner, counters and the verdict fields. */
abstract class TsPlayerBase implements BenchPlayer {
  readonly stats = newPlayerStats();
  readonly scanner = new TsPacketScanner();
  protected received = 0;
  /** performance.now() of the read being scanned: the receive time of the frames it starts. */
  private readAt = 0;

  constructor(latency: StreamLatency | null) {
    this.scanner.onFirstKeyFrame = () => {
      this.stats.firstKeyFrameMs = performance.now() - this.stats.startedAt;
    };
    if (latency) this.scanner.onFrame = (ts) => latency.received(ts, this.readAt);
    this.stats.ccGaps = 0;
  }

  get bytesIn(): number {
    return this.received;
  }

  protected onBytes(d: Buffer): void {
    this.readAt = performance.now();
    this.received += d.length;
    try {
      this.scanner.push(d);
    } catch (e) {
      this.fail(e);
      return;
    }
    this.stats.lastTimestampMs = this.scanner.lastTimestampMs;
    this.stats.ccGaps = this.scanner.ccGaps;
  }

  protected fail(e: unknown): void {
    if (this.stats.stopped) return;
    if (this.stats.connectMs < 0) this.stats.failure ??= describeError(e);
    else this.stats.endedEarly ??= describeError(e);
    this.close();
  }

  protected onClosed(): void {
    if (!this.stats.stopped && this.stats.connectMs >= 0) this.stats.endedEarly ??= 'closed';
  }

  protected abstract close(): void;

  stop(): void {
    this.stats.stopped = true;
    this.close();
  }
}

/** An HTTP-TS player (`/app/name.ts`): plain http.get, one connection per player, bodies only scanned. */
export class TsBenchPlayer extends TsPlayerBase {
  private readonly req: ClientRequest;

  constructor(url: string, timeoutMs: number, latency: StreamLatency | null = null) {
    super(latency);
    this.req = httpGet(url, { agent: false, timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        this.stats.failure = `HTTP ${res.statusCode}`;
        res.resume();
        this.req.destroy();
        return;
      }
      this.stats.connectMs = performance.now() - this.stats.startedAt;
      this.req.setTimeout(0);
      res.on('data', (d: Buffer) => this.onBytes(d));
      res.on('close', () => this.onClosed());
    });
    this.req.on('timeout', () => this.req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    this.req.on('error', (e) => this.fail(e));
  }

  protected close(): void {
    this.req.destroy();
  }
}

/**
 * A WebSocket-TS player (`ws://host/app/name.ts`): every binary message must be whole 188-byte
 * packets (what the README promises a browser demuxer), then it is scanned like an HTTP body.
 */
export class WsTsBenchPlayer extends TsPlayerBase {
  private readonly ws: WebSocket;

  constructor(url: string, timeoutMs: number, latency: StreamLatency | null = null) {
    super(latency);
    this.ws = new WebSocket(url, {
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
      maxPayload: MAX_WS_MESSAGE_BYTES,
    });
    this.ws.binaryType = 'nodebuffer';
    this.ws.on('open', () => {
      this.stats.connectMs = performance.now() - this.stats.startedAt;
    });
    this.ws.on('unexpected-response', (req, res) => {
      this.stats.failure = `HTTP ${res.statusCode}`;
      req.destroy();
    });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return this.fail(Object.assign(new Error('text message'), { code: 'WS_TEXT_MESSAGE' }));
      if (data.length % TS_PACKET_SIZE !== 0 || this.scanner.partialBytes !== 0) {
        return this.fail(
          Object.assign(new Error(`${data.length}-byte message`), { code: 'WS_TS_PARTIAL_PACKET' }),
        );
      }
      this.onBytes(data);
    });
    this.ws.on('error', (e) => this.fail(e));
    this.ws.on('close', () => this.onClosed());
  }

  protected close(): void {
    // terminate: no closing handshake to wait for with a thousand players.
    this.ws.terminate();
  }
}
