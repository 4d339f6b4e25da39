import { get as httpGet, type ClientRequest } from 'node:http';
import { FlvTagScanner } from './flv-scanner.ts';
import type { StreamLatency } from './latency-probe.ts';

/** What the bench knows about one player; plain fields, updated from socket callbacks only. */
export interface PlayerStats {
  /** performance.now() when the attempt started. */
  startedAt: number;
  /** ms from start to Play.Start (RTMP) or the response headers (HTTP-FLV); -1 until then. */
  connectMs: number;
  /** ms from start to the first video key frame that is not a sequence header; -1 until then. */
  firstKeyFrameMs: number;
  /** Last audio/video timestamp received, -1 before any. */
  lastTimestampMs: number;
  /** Largest publisher-minus-player timestamp gap seen at a sample in the window. */
  maxLagMs: number;
  bytesAtWindowStart: number;
  bytesAtWindowEnd: number;
  /** Set when connecting failed (code or message). */
  failure: string | null;
  /** Set when an established player ended before the bench stopped it. */
  endedEarly: string | null;
  /** MPEG-TS players: packets whose continuity counter skipped (the server dropped data for it). */
  ccGaps?: number;
  /** RTSP players: RTP sequence jumps on their tracks (packets the server dropped for them). */
  seqGaps?: number;
  /**
   * RTSP players: lastTimestampMs is on the player's own clock (RTP time since its first packet),
   * not the publisher's, so lag is measured as growth from the player's best offset (bestOffsetMs).
   */
  bestOffsetMs?: number;
  /** HLS clients: late, skipped or slow segments in the window, or failed requests. */
  hlsBehind?: boolean;
  stopped: boolean;
}

export interface BenchPlayer {
  readonly stats: PlayerStats;
  /** Bytes read from the socket so far. */
  readonly bytesIn: number;
  stop(): void;
}

export function newPlayerStats(): PlayerStats {
  return {
    startedAt: performance.now(),
    connectMs: -1,
    firstKeyFrameMs: -1,
    lastTimestampMs: -1,
    maxLagMs: 0,
    bytesAtWindowStart: 0,
    bytesAtWindowEnd: 0,
    failure: null,
    endedEarly: null,
    stopped: false,
  };
}

export const describeError = (e: unknown): string => {
  const err = e as { code?: unknown; message?: unknown };
  return typeof err.code === 'string' ? err.code : String(err.message ?? e);
};

/** An HTTP-FLV player: plain http.get and a header scanner, bodies are only counted. */
export class FlvBenchPlayer implements BenchPlayer {
  readonly stats = newPlayerStats();
  private readonly req: ClientRequest;
  private received = 0;

  constructor(url: string, timeoutMs: number, latency: StreamLatency | null = null) {
    const scanner = new FlvTagScanner();
    scanner.onFirstKeyFrame = () => {
      this.stats.firstKeyFrameMs = performance.now() - this.stats.startedAt;
    };
    let readAt = 0;
    if (latency) scanner.onFrame = (ts) => latency.received(ts, readAt);
    // agent: false: one connection per player, as real viewers have.
    this.req = httpGet(url, { agent: false, timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        this.stats.failure = `HTTP ${res.statusCode}`;
        res.resume();
        this.req.destroy();
        return;
      }
      this.stats.connectMs = performance.now() - this.stats.startedAt;
      this.req.setTimeout(0);
      res.on('data', (d: Buffer) => {
        readAt = performance.now();
        this.received += d.length;
        try {
          scanner.push(d);
        } catch (e) {
          this.fail(e);
        }
        this.stats.lastTimestampMs = scanner.lastTimestampMs;
      });
      res.on('close', () => {
        if (!this.stats.stopped && this.stats.endedEarly === null) this.stats.endedEarly = 'closed';
      });
    });
    this.req.on('timeout', () => this.req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    this.req.on('error', (e) => this.fail(e));
  }

  get bytesIn(): number {
    return this.received;
  }

  private fail(e: unknown): void {
    if (this.stats.stopped) return;
    if (this.stats.connectMs < 0) this.stats.failure ??= describeError(e);
    else this.stats.endedEarly ??= describeError(e);
    this.req.destroy();
  }

  stop(): void {
    this.stats.stopped = true;
    this.req.destroy();
  }
}
