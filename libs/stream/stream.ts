import type { Logger } from 'pino';
import type { Counters } from '../metrics/counters.ts';
import { GopCache } from './gop-cache.ts';
import { createMediaMessage, MediaKind, type MediaMessage } from './media.ts';
import { wireBytes } from './output-format.ts';
import { EndReason, type Sink } from './sink.ts';

export interface StreamOptions {
  gopCache: boolean;
  gopCacheMaxBytes: number;
  /** A viewer waits this long for a missing publisher, and for a new one after its publisher left. */
  waitPublisherMs: number;
  /** Per-viewer byte budget; above it the viewer skips to the next key frame. */
  maxBufferedBytes: number;
  /** A viewer whose queue does not drain at all for this long is disconnected. */
  stallTimeoutMs: number;
  /**
   * Writes to viewers are gathered for this long and sent with one writev per viewer.
   * Publishers deliver each frame in its own event-loop turn, so without a window every
   * viewer costs one syscall per frame; 0 flushes at the end of each turn.
   */
  writeCoalesceMs: number;
}

export interface PublisherHandle {
  readonly id: string;
  readonly since: number;
}

export interface IncomingFrame {
  kind: MediaKind;
  timestampMs: number;
  payload: Buffer;
  isKeyFrame: boolean;
  isSequenceHeader: boolean;
}

/** Drops of one viewer are summarized in the log at most this often. */
const DROP_LOG_INTERVAL_MS = 10_000;

/** Gap put between the last frame of a publisher and the first of the next one. */
const PUBLISHER_SWITCH_GAP_MS = 40;

/** Node-wide byte counters every stream adds to (for load reports). */
export interface ByteTotals {
  bytesIn: number;
  bytesOut: number;
}

export interface StreamDeps {
  log: Logger;
  counters: Counters;
  onIdle: (s: Stream) => void;
  /** After a viewer joined or left (edges start and stop relays on it). */
  onViewersChanged: (s: Stream) => void;
  totals: ByteTotals;
}

/** Per-viewer state the stream keeps; the sink itself stays a thin socket wrapper. */
export class Subscriber {
  readonly sink: Sink;
  readonly since = Date.now();
  started = false;
  /** Skip video until a key frame (after joining mid-GOP, a drop, or a publisher switch). */
  needKeyFrame = true;
  waitTimer: NodeJS.Timeout | null = null;
  lastDrained = 0;
  lastProgressAt = Date.now();
  droppedFrames = 0;
  droppedSinceLog = 0;
  lastDropLogAt = 0;
  bytesSent = 0;

  constructor(sink: Sink) {
    this.sink = sink;
  }
}

/**
 * One live stream (app/name): at most one publisher, any number of viewers, the GOP cache
 * and the last metadata and sequence headers. Frames are serialized once per output
 * format; viewers of a format share the Buffer.
 */
export class Stream {
  readonly key: string;
  private readonly opts: StreamOptions;
  private readonly log: Logger;
  private readonly counters: Counters;
  private readonly onIdle: (s: Stream) => void;
  private readonly onViewersChanged: (s: Stream) => void;
  private readonly totals: ByteTotals;

  private publisher: PublisherHandle | null = null;
  private readonly subs = new Set<Subscriber>();
  private metadata: MediaMessage | null = null;
  private videoHeader: MediaMessage | null = null;
  private audioHeader: MediaMessage | null = null;
  private readonly gop: GopCache;
  private hasAudio = false;
  private hasVideo = false;

  private lastOutTs = -1;
  private tsOffset = 0;
  private tsFloor = 0;
  private offsetPending = false;
  private corked = false;

  framesIn = 0;
  bytesIn = 0;

  constructor(key: string, opts: StreamOptions, deps: StreamDeps) {
    this.key = key;
    this.opts = opts;
    this.log = deps.log.child({ stream: key });
    this.counters = deps.counters;
    this.onIdle = deps.onIdle;
    this.onViewersChanged = deps.onViewersChanged;
    this.totals = deps.totals;
    this.gop = new GopCache(opts.gopCache ? opts.gopCacheMaxBytes : 0);
  }

  get hasPublisher(): boolean {
    return this.publisher !== null;
  }

  get publisherHandle(): PublisherHandle | null {
    return this.publisher;
  }

  get subscriberCount(): number {
    return this.subs.size;
  }

  get subscribers(): ReadonlySet<Subscriber> {
    return this.subs;
  }

  get isIdle(): boolean {
    return this.publisher === null && this.subs.size === 0;
  }

  /** Claims the stream for a publisher; null when another publisher holds it. */
  attachPublisher(id: string): PublisherHandle | null {
    if (this.publisher) return null;
    const handle: PublisherHandle = { id, since: Date.now() };
    this.publisher = handle;
    // A returning publisher continues the output timeline: its first frame maps just after our last one.
    this.offsetPending = this.lastOutTs >= 0;
    this.metadata = null;
    this.videoHeader = null;
    this.audioHeader = null;
    this.hasAudio = false;
    this.hasVideo = false;
    this.gop.clear();
    for (const sub of this.subs) {
      this.clearWait(sub);
      sub.needKeyFrame = true;
      if (!sub.started) this.startSubscriber(sub);
    }
    return handle;
  }

  detachPublisher(handle: PublisherHandle): void {
    if (this.publisher !== handle) return;
    this.publisher = null;
    this.gop.clear();
    // Viewers stay attached for a while so a reconnecting publisher finds them.
    for (const sub of this.subs) this.armWait(sub, EndReason.Unpublished);
    if (this.isIdle) this.onIdle(this);
  }

  /** A frame from the current publisher, on the publisher's timeline. */
  write(handle: PublisherHandle, frame: IncomingFrame): void {
    if (this.publisher !== handle) return;
    let ts = frame.timestampMs;
    if (this.offsetPending) {
      this.tsFloor = this.lastOutTs + PUBLISHER_SWITCH_GAP_MS;
      this.tsOffset = this.tsFloor - ts;
      this.offsetPending = false;
    }
    ts += this.tsOffset;
    if (ts < this.tsFloor) ts = this.tsFloor;
    if (ts > this.lastOutTs) this.lastOutTs = ts;

    const msg = createMediaMessage(frame.kind, ts, frame.payload, frame);
    this.framesIn++;
    this.bytesIn += frame.payload.length;
    this.totals.bytesIn += frame.payload.length;

    if (frame.kind === MediaKind.Data) {
      this.metadata = msg;
    } else if (frame.kind === MediaKind.Video) {
      this.hasVideo = true;
      if (frame.isSequenceHeader) this.videoHeader = msg;
      else this.gop.push(msg);
    } else {
      this.hasAudio = true;
      if (frame.isSequenceHeader) this.audioHeader = msg;
      else this.gop.push(msg);
    }
    this.dispatch(msg);
  }

  addSubscriber(sink: Sink): Subscriber {
    const sub = new Subscriber(sink);
    this.subs.add(sub);
    if (this.publisher) this.startSubscriber(sub);
    else this.armWait(sub, EndReason.NotFound);
    this.onViewersChanged(this);
    return sub;
  }

  removeSubscriber(sub: Subscriber): void {
    if (!this.subs.delete(sub)) return;
    this.clearWait(sub);
    if (sub.droppedSinceLog > 0) this.logDrops(sub);
    this.onViewersChanged(this);
    if (this.isIdle) this.onIdle(this);
  }

  /** Ends every viewer (shutdown) and forgets the publisher. */
  close(reason: EndReason): void {
    for (const sub of [...this.subs]) {
      this.subs.delete(sub);
      this.clearWait(sub);
      sub.sink.end(reason);
    }
    this.publisher = null;
  }

  /** Periodic housekeeping: stalled viewers and drop reports. Called by the hub about once a second. */
  sweep(now: number): void {
    for (const sub of [...this.subs]) {
      if (!sub.started) continue;
      const buffered = sub.sink.bufferedBytes;
      // What has left our queue: everything handed to the sink minus what still waits in it.
      const drained = sub.bytesSent - buffered;
      if (buffered === 0 || drained > sub.lastDrained) {
        sub.lastProgressAt = now;
        sub.lastDrained = drained;
      } else if (now - sub.lastProgressAt > this.opts.stallTimeoutMs) {
        this.counters.inc('viewer_stalled_disconnects');
        this.log.warn(
          { sink: sub.sink.id, bufferedBytes: buffered, stalledMs: now - sub.lastProgressAt },
          'viewer stalled, disconnecting',
        );
        this.removeSubscriber(sub);
        sub.sink.end(EndReason.Stalled);
        continue;
      }
      if (sub.droppedSinceLog > 0 && now - sub.lastDropLogAt >= DROP_LOG_INTERVAL_MS) this.logDrops(sub);
    }
  }

  private logDrops(sub: Subscriber): void {
    this.log.info(
      {
        sink: sub.sink.id,
        droppedFrames: sub.droppedSinceLog,
        droppedTotal: sub.droppedFrames,
        bufferedBytes: sub.sink.bufferedBytes,
      },
      'slow viewer: frames dropped to the next key frame',
    );
    sub.droppedSinceLog = 0;
    sub.lastDropLogAt = Date.now();
  }

  private armWait(sub: Subscriber, reason: EndReason): void {
    this.clearWait(sub);
    sub.waitTimer = setTimeout(() => {
      sub.waitTimer = null;
      if (this.publisher || !this.subs.has(sub)) return;
      this.counters.inc(reason === EndReason.NotFound ? 'viewer_not_found' : 'viewer_unpublished');
      this.removeSubscriber(sub);
      sub.sink.end(reason);
    }, this.opts.waitPublisherMs);
    sub.waitTimer.unref();
  }

  private clearWait(sub: Subscriber): void {
    if (sub.waitTimer) {
      clearTimeout(sub.waitTimer);
      sub.waitTimer = null;
    }
  }

  private startSubscriber(sub: Subscriber): void {
    sub.started = true;
    sub.lastProgressAt = Date.now();
    // Without a video header yet we cannot tell; announce both like other servers do.
    const hasVideo = this.hasVideo || this.videoHeader !== null || !this.hasAudio;
    const hasAudio = this.hasAudio || this.audioHeader !== null || !this.hasVideo;
    // The start burst (preamble, headers, cached GOP) goes out at once, as one writev, outside
    // the coalescing window: time to first frame matters more than one syscall.
    sub.sink.cork();
    sub.sink.start({ key: this.key, hasAudio, hasVideo });
    if (this.metadata) this.send(sub, this.metadata);
    if (this.videoHeader) this.send(sub, this.videoHeader);
    if (this.audioHeader) this.send(sub, this.audioHeader);
    for (const m of this.gop.messages) this.deliver(sub, m);
    sub.sink.uncork();
  }

  private dispatch(msg: MediaMessage): void {
    if (this.subs.size === 0) return;
    this.ensureCorked();
    for (const sub of this.subs) {
      if (sub.started) this.deliver(sub, msg);
    }
  }

  /** Budget and key frame rules for one viewer and one message. */
  private deliver(sub: Subscriber, msg: MediaMessage): void {
    // Metadata and sequence headers are tiny and needed to decode anything later: always sent.
    if (msg.kind === MediaKind.Data || msg.isSequenceHeader) {
      this.send(sub, msg);
      return;
    }
    const video = msg.kind === MediaKind.Video;
    if (sub.sink.bufferedBytes > this.opts.maxBufferedBytes) {
      if (!sub.needKeyFrame) this.counters.inc('viewer_drop_events');
      sub.needKeyFrame = true;
      sub.droppedFrames++;
      sub.droppedSinceLog++;
      this.counters.inc('viewer_dropped_frames');
      return;
    }
    if (sub.needKeyFrame && this.hasVideo) {
      if (!(video && msg.isKeyFrame)) return;
      sub.needKeyFrame = false;
    }
    this.send(sub, msg);
  }

  private send(sub: Subscriber, msg: MediaMessage): void {
    const buf = wireBytes(msg, sub.sink.format);
    sub.bytesSent += buf.length;
    this.totals.bytesOut += buf.length;
    sub.sink.write(buf);
  }

  /**
   * Coalesce writes into one writev per viewer: cork every viewer now, uncork them all when
   * the window ends. A viewer that joins mid-window is not corked, so its start is not delayed.
   */
  private ensureCorked(): void {
    if (this.corked) return;
    this.corked = true;
    for (const sub of this.subs) if (sub.sink.coalesce !== false) sub.sink.cork();
    const flush = (): void => {
      this.corked = false;
      for (const sub of this.subs) if (sub.sink.coalesce !== false) sub.sink.uncork();
    };
    if (this.opts.writeCoalesceMs > 0) setTimeout(flush, this.opts.writeCoalesceMs);
    else process.nextTick(flush);
  }
}
