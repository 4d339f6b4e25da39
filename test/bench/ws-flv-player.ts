import WebSocket from 'ws';
import { FlvTagScanner } from './flv-scanner.ts';
import type { StreamLatency } from './latency-probe.ts';
import { describeError, newPlayerStats, type BenchPlayer } from './players.ts';

/** Sluice sends a viewer's coalesced writes as messages of a few frames; far bigger ones are not media. */
const MAX_WS_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * A WebSocket-FLV player (`ws://host/app/name.flv`, `ws` without compression): the binary
 * messages, concatenated, are an HTTP-FLV body (header, then tags, cut anywhere), so they go
 * through the same header scanner and are otherwise only counted.
 */
export class WsFlvBenchPlayer implements BenchPlayer {
  readonly stats = newPlayerStats();
  private readonly ws: WebSocket;
  private readonly scanner = new FlvTagScanner();
  private received = 0;
  private readAt = 0;

  constructor(url: string, timeoutMs: number, latency: StreamLatency | null = null) {
    this.scanner.onFirstKeyFrame = () => {
      this.stats.firstKeyFrameMs = performance.now() - this.stats.startedAt;
    };
    if (latency) this.scanner.onFrame = (ts) => latency.received(ts, this.readAt);
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
      this.readAt = performance.now();
      this.received += data.length;
      try {
        this.scanner.push(data);
      } catch (e) {
        this.fail(e);
        return;
      }
      this.stats.lastTimestampMs = this.scanner.lastTimestampMs;
    });
    this.ws.on('error', (e) => this.fail(e));
    this.ws.on('close', () => {
      if (!this.stats.stopped && this.stats.connectMs >= 0) this.stats.endedEarly ??= 'closed';
    });
  }

  get bytesIn(): number {
    return this.received;
  }

  private fail(e: unknown): void {
    if (this.stats.stopped) return;
    if (this.stats.connectMs < 0) this.stats.failure ??= describeError(e);
    else this.stats.endedEarly ??= describeError(e);
    this.ws.terminate();
  }

  stop(): void {
    this.stats.stopped = true;
    // terminate: no closing handshake to wait for with a thousand players.
    this.ws.terminate();
  }
}
