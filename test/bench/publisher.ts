import { decodeAmf0, encodeAmf0 } from '../../libs/amf/index.ts';
import { TagType } from '../../libs/flv/index.ts';
import { RtmpClient } from '../../libs/rtmp/client-connection.ts';
import type { StreamLatency } from './latency-probe.ts';
import type { BenchMedia } from './media.ts';

/** Shortest sleep of the pacing loop; tags due by then go out together. */
const MIN_SLEEP_MS = 2;

const isSequenceHeader = (type: number, body: Buffer): boolean =>
  (type === TagType.Video || type === TagType.Audio) &&
  body.length > 1 &&
  body[1] === 0 &&
  (body[0]! & 0x80) === 0;

/**
 * Publishes the bench media over RTMP in real time: each tag goes out when the wall clock
 * reaches its timestamp, and the file loops with a timestamp offset (sequence headers and
 * metadata only on the first pass). One timer for the whole publisher. With a stream's latency
 * table, each audio/video tag's send time (just after the socket write) is stamped with its
 * timestamp.
 */
export class BenchPublisher {
  private readonly media: BenchMedia;
  /** This stream's send times (latency-probe.ts): what its players look their frames up in. */
  readonly latency: StreamLatency | null;
  private client: RtmpClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private index = 0;
  private loop = 0;
  private lastTs = 0;
  private sentBytes = 0;
  private closedError: Error | null | undefined = undefined;
  /**
   * Set by a PublisherGroup, whose one timer calls pump() for all its publishers: hundreds of
   * publishers then cost one timer, not one each.
   */
  externalPacing = false;
  /** Largest (send time - due time) of a tag since the last resetLateness(): the bench's pacing delay. */
  maxLateMs = 0;

  constructor(media: BenchMedia, latency: StreamLatency | null = null) {
    this.media = media;
    this.latency = latency;
  }

  async start(url: string): Promise<void> {
    const c = await RtmpClient.connect(url, { timeoutMs: 10_000 });
    this.client = c;
    c.onClose = (err) => {
      this.closedError = err;
      if (this.timer) clearTimeout(this.timer);
    };
    await c.publish();
    const script = this.media.tags.find((t) => t.type === TagType.Script);
    if (script) c.sendMedia(18, 0, encodeAmf0(['@setDataFrame', ...decodeAmf0(script.body)]));
    this.startedAt = performance.now();
    this.pump();
  }

  /** The timestamp of the last tag sent: where the live edge is. */
  get currentTimestampMs(): number {
    return this.lastTs;
  }

  /** Payload + chunk bytes written to the socket so far. */
  get bytesSent(): number {
    return this.client?.socket.bytesWritten ?? this.sentBytes;
  }

  /** Tag bodies sent so far (no chunk headers): what the server counts as its ingest (bytesIn). */
  get payloadBytesSent(): number {
    return this.sentBytes;
  }

  /** Bytes written but still queued in the socket: grows when the server does not read fast enough. */
  get queuedBytes(): number {
    return this.client?.socket.writableLength ?? 0;
  }

  resetLateness(): void {
    this.maxLateMs = 0;
  }

  /** undefined while connected; null or the error once the connection ended. */
  get closed(): Error | null | undefined {
    return this.closedError;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.client?.close();
  }

  /** Sends every tag that is due; schedules the next call unless externally paced. */
  pump(): void {
    const c = this.client;
    if (!c || this.closedError !== undefined) return;
    const tags = this.media.tags;
    const now = performance.now() - this.startedAt;
    for (;;) {
      if (this.index >= tags.length) {
        this.index = 0;
        this.loop++;
      }
      const tag = tags[this.index]!;
      const ts = tag.timestampMs + this.loop * this.media.loopMs;
      if (ts > now) break;
      this.index++;
      if (tag.type === TagType.Script) continue;
      if (this.loop > 0 && isSequenceHeader(tag.type, tag.body)) continue;
      c.sendMedia(tag.type as 8 | 9, ts, tag.body);
      this.latency?.sent(ts, performance.now());
      this.sentBytes += tag.body.length;
      if (now - ts > this.maxLateMs) this.maxLateMs = now - ts;
      if (ts > this.lastTs) this.lastTs = ts;
    }
    if (this.externalPacing) return;
    // The loop stopped on a valid index whose tag is not due yet.
    const nextTs = tags[this.index]!.timestampMs + this.loop * this.media.loopMs;
    this.timer = setTimeout(() => this.pump(), Math.max(MIN_SLEEP_MS, nextTs - now));
  }
}
