import type { Logger } from 'pino';
import type { Counters } from '../metrics/counters.ts';
import type { Flusher, Holdable, WindowHolder } from './flusher.ts';
import { GopCache } from './gop-cache.ts';
import { createMediaMessage, MediaKind, type MediaMessage } from './media.ts';
import { formatState, wireBytes, type FormatStates, type OutputFormat } from './output-format.ts';
import { EndReason, type Sink } from './sink.ts';
import type { StreamTap } from './tap.ts';
import { firstSegmentOf, SegmentMarker, type SegmentMark } from './segment-marker.ts';

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
  /** HLS segment target (ms) for the segment marks this node decides as owner; 0 or absent: none. */
  segmentTargetMs?: number;
  /** Forced cut without a key frame (ms); default 3 x the target. */
  segmentMaxMs?: number;
}

export interface AttachOptions {
  /**
   * The owner's timeline id for segment names (an origin's ownership epoch). A different one
   * restarts segment numbers; absent, the stream's own timeline continues.
   */
  timeline?: string;
  /** The owner's first segment number on `timeline` (firstSegmentOf its epoch). */
  firstSegment?: number;
  /** The publisher brings segment marks with its frames (an edge's relay from the owner). */
  marksFromSource?: boolean;
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
  /** Segment mark from the stream's owner (relayed frames only). */
  segment?: SegmentMark | null;
}

/** Drops of one viewer are summarized in the log at most this often. */
const DROP_LOG_INTERVAL_MS = 10_000;

/** Metadata and sequence headers up to this size are sent whatever the viewer's budget. */
const MAX_EXEMPT_HEADER_BYTES = 64 * 1024;

/** Gap put between the last frame of a publisher and the first of the next one. */
const PUBLISHER_SWITCH_GAP_MS = 40;

/** Node-wide byte counters every stream adds to (for load reports). */
export interface ByteTotals {
  bytesIn: number;
  bytesOut: number;
  /** Bytes out by viewer protocol (one counter object per protocol, shared by its viewers). */
  bytesOutByProtocol?: Map<string, { bytes: number }>;
}

export interface StreamDeps {
  log: Logger;
  counters: Counters;
  onIdle: (s: Stream) => void;
  /** After a viewer joined or left (edges start and stop relays on it). */
  onViewersChanged: (s: Stream) => void;
  totals: ByteTotals;
  /** Node-wide write coalescing (one timer for every stream). */
  flusher: Flusher;
}

/** Per-viewer state the stream keeps; the sink itself stays a thin socket wrapper. */
export class Subscriber implements Holdable {
  readonly sink: Sink;
  readonly since = Date.now();
  /** Held in the write-coalescing window (false for sinks that opt out). */
  readonly coalesce: boolean;
  /** May ride a window's shared bytes (Sink.sharesWindow, and coalesced). */
  readonly sharesWindow: boolean;
  /** Still one of its stream's viewers (false once removed or ended by the stream). */
  attached = true;
  /** Counted as a viewer but sent no media (an HLS session: it fetches segments instead). */
  readonly passive: boolean;
  /** Gets every frame that starts an HLS segment, whatever its budget (a relay to an edge). */
  readonly keepsSegmentStarts: boolean;
  /** Corked by the flusher for the current window. */
  held = false;
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
  /** The node-wide sent-bytes counter of this viewer's protocol. */
  sentTotal: { bytes: number } = { bytes: 0 };
  /**
   * `bytesSent` when the start burst was written. Until the socket has drained that far, the
   * burst does not count against the viewer's byte budget: the cached GOP may be bigger than
   * the budget, and cutting it would freeze the viewer until the next key frame.
   */
  burstEnd = 0;
  /** Why the stream ended this viewer, if it did (null: the viewer left or is still here). */
  endedBy: EndReason | null = null;

  constructor(sink: Sink) {
    this.sink = sink;
    this.coalesce = sink.coalesce !== false;
    this.sharesWindow = this.coalesce && sink.sharesWindow === true && sink.keepsSegmentStarts !== true;
    this.passive = sink.passive === true;
    this.keepsSegmentStarts = sink.keepsSegmentStarts === true;
  }
}

/**
 * One coalescing window's bytes of one output format, and the viewers that get them whole:
 * viewers that were playing steadily (on a key frame, within budget) when the window opened.
 */
interface SharedWindow {
  readonly format: OutputFormat;
  readonly bufs: Buffer[];
  bytes: number;
  /** Audio and video messages in it (what a viewer over budget drops). */
  frames: number;
  readonly riders: Subscriber[];
}

/**
 * One live stream (app/name): at most one publisher, any number of viewers, the GOP cache
 * and the last metadata and sequence headers. Frames are serialized once per output
 * format; viewers of a format share the Buffer.
 *
 * With a coalescing window, steady viewers of a format share more than the frames: the
 * window's frames are gathered once per format and written to each of them as one Buffer at
 * the window's end, so a frame costs the stream one append however many viewers it has, and a
 * viewer one write per window. The other viewers (starting, waiting for a key frame, relays,
 * RTSP) get each message as it comes, corked until the window ends. A viewer changes between
 * the two only at a window's edge, and writes to one socket are always made in message order.
 */
export class Stream implements WindowHolder {
  readonly key: string;
  private readonly opts: StreamOptions;
  private readonly log: Logger;
  private readonly counters: Counters;
  private readonly onIdle: (s: Stream) => void;
  private readonly onViewersChanged: (s: Stream) => void;
  private readonly totals: ByteTotals;
  private readonly flusher: Flusher;

  private publisher: PublisherHandle | null = null;
  private readonly subs = new Set<Subscriber>();
  private taps: StreamTap[] = [];
  /** States of the stateful output formats viewers of this stream use (MPEG-TS muxers). */
  private readonly formatStates: FormatStates = [];
  private readonly marker: SegmentMarker;
  private marksFromSource = false;
  private metadata: MediaMessage | null = null;
  private videoHeader: MediaMessage | null = null;
  private audioHeader: MediaMessage | null = null;
  private readonly gop: GopCache;
  private hasAudio = false;
  private hasVideo = false;
  /** The open window's shared bytes per format, null between windows. */
  private shared: SharedWindow[] | null = null;
  /** Viewers that get messages one by one during the open window. */
  private loose: Subscriber[] = [];
  /** Held by the flusher (WindowHolder). */
  windowHeld = false;

  /** Output timeline: last timestamp sent, and where the current publisher's frames map. */
  private lastOutTs = -1;
  private tsOffset = 0;
  private tsFloor = 0;
  /** A new publisher continues the timeline; its offset is fixed by its first audio/video frame. */
  private offsetPending = false;
  /** Input timeline of the current publisher, unwrapped from 32 bits (RTMP wraps at 49.7 days). */
  private rawLast = -1;
  private rawUnwrapped = 0;

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
    this.flusher = deps.flusher;
    this.gop = new GopCache(opts.gopCache ? opts.gopCacheMaxBytes : 0);
    const target = opts.segmentTargetMs ?? 0;
    const now = Date.now();
    this.marker = new SegmentMarker(
      { targetMs: target, maxMs: opts.segmentMaxMs ?? target * 3 },
      // A stream whose publisher brings no owner timeline: names and numbers from the clock, so
      // they differ from those of the same stream before a restart (a cache never mixes them).
      now.toString(36),
      firstSegmentOf(now * 1000),
    );
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

  /** The current publisher's sequence headers (what RTSP describes in SDP), null until sent. */
  get codecHeaders(): { video: MediaMessage | null; audio: MediaMessage | null } {
    return { video: this.videoHeader, audio: this.audioHeader };
  }

  /** This stream's state of a stateful output format (RTP: where each track's sequence is). */
  formatStateOf(format: OutputFormat): unknown {
    return formatState(format, this.formatStates);
  }

  /** Adds a consumer that sees every message from now on (see StreamTap). */
  addTap(tap: StreamTap): void {
    this.taps.push(tap);
  }

  /** Ends the taps: the stream is idle and about to be forgotten, or the node shuts down. */
  private closeTaps(): void {
    const taps = this.taps;
    this.taps = [];
    for (const t of taps) this.runTap(t, () => t.close?.());
  }

  /**
   * Runs one tap callback. A tap that throws is a bug in the tap, not in the stream: it is
   * removed from this stream (logged and counted once) and the publisher and viewers go on.
   */
  private runTap(tap: StreamTap, call: () => void): void {
    try {
      call();
    } catch (err) {
      // A new array: a loop over the taps that is running goes on over the old one.
      this.taps = this.taps.filter((t) => t !== tap);
      this.counters.inc('stream_tap_failures');
      this.log.error({ err }, 'stream output failed and was stopped for this stream');
    }
  }

  private becameIdle(): void {
    this.closeTaps();
    this.onIdle(this);
  }

  /** Claims the stream for a publisher; null when another publisher holds it. */
  attachPublisher(id: string, opts: AttachOptions = {}): PublisherHandle | null {
    if (this.publisher) return null;
    this.flushWindow();
    const handle: PublisherHandle = { id, since: Date.now() };
    this.publisher = handle;
    this.marksFromSource = opts.marksFromSource === true;
    this.marker.publisherChanged(opts.timeline, opts.firstSegment);
    // A returning publisher continues the output timeline: its first frame maps just after our last one.
    this.offsetPending = this.lastOutTs >= 0;
    if (this.offsetPending) this.tsFloor = this.lastOutTs + PUBLISHER_SWITCH_GAP_MS;
    this.rawLast = -1;
    this.metadata = null;
    this.videoHeader = null;
    this.audioHeader = null;
    this.hasAudio = false;
    this.hasVideo = false;
    this.gop.clear();
    const info = { marksFromSource: this.marksFromSource };
    for (const t of this.taps) this.runTap(t, () => t.onPublisherStart?.(id, info));
    for (const sub of this.subs) {
      this.clearWait(sub);
      sub.needKeyFrame = true;
      if (!sub.started) this.startSubscriber(sub);
    }
    return handle;
  }

  detachPublisher(handle: PublisherHandle): void {
    if (this.publisher !== handle) return;
    this.flushWindow();
    this.publisher = null;
    this.gop.clear();
    for (const t of this.taps) this.runTap(t, () => t.onPublisherStop?.());
    // Viewers stay attached for a while so a reconnecting publisher finds them.
    for (const sub of this.subs) this.armWait(sub, EndReason.Unpublished);
    if (this.isIdle) this.becameIdle();
  }

  /** A frame from the current publisher, on the publisher's timeline. */
  write(handle: PublisherHandle, frame: IncomingFrame): void {
    if (this.publisher !== handle) return;
    let ts: number;
    if (frame.kind === MediaKind.Data || frame.isSequenceHeader) {
      // Metadata and sequence headers are often stamped 0 whatever the frames say (an origin's
      // start burst, a relay of a stream that has run for days): they neither move the
      // timeline nor fix the offset, and go out at its current end.
      ts = Math.max(this.lastOutTs, this.tsFloor, 0);
    } else {
      const raw = this.unwrap(frame.timestampMs);
      if (this.offsetPending) {
        // The first audio or video frame of a returning publisher fixes the offset, so a
        // publisher whose clock is an hour in does not move the viewers' clocks an hour.
        this.tsOffset = this.tsFloor - raw;
        this.offsetPending = false;
      }
      ts = raw + this.tsOffset;
      if (ts < this.tsFloor) ts = this.tsFloor;
    }
    if (ts > this.lastOutTs) this.lastOutTs = ts;

    let segment: SegmentMark | null = null;
    if (frame.kind !== MediaKind.Data && !frame.isSequenceHeader) {
      segment = this.marksFromSource
        ? (frame.segment ?? null)
        : this.marker.mark(frame.kind, ts, frame.isKeyFrame, this.videoHeader !== null);
    }
    const msg = createMediaMessage(frame.kind, ts, frame.payload, frame, segment);
    this.framesIn++;
    this.bytesIn += frame.payload.length;
    this.totals.bytesIn += frame.payload.length;

    if (frame.kind === MediaKind.Data) {
      this.metadata = msg;
    } else if (frame.kind === MediaKind.Video) {
      this.hasVideo = true;
      if (frame.isSequenceHeader) this.videoHeader = msg;
    } else {
      this.hasAudio = true;
      if (frame.isSequenceHeader) this.audioHeader = msg;
    }
    this.dispatch(msg);
    for (const t of this.taps) this.runTap(t, () => t.onMessage(msg));
    // Cached after dispatch, so the cache counts the serialized copies viewers asked for.
    if (frame.kind !== MediaKind.Data && !frame.isSequenceHeader) this.gop.push(msg);
  }

  /** Bytes the GOP cache holds (payloads and serialized copies). */
  get gopCacheBytes(): number {
    return this.gop.byteLength;
  }

  /**
   * The publisher's timestamp on a 64-bit line: each step is taken modulo 2^32 as a signed
   * delta, so a 32-bit wrap continues forward and small steps back (audio behind video) stay
   * small steps back.
   */
  private unwrap(raw: number): number {
    if (this.rawLast < 0) {
      this.rawLast = raw;
      this.rawUnwrapped = raw;
      return raw;
    }
    let d = (raw - this.rawLast) % 0x1_0000_0000;
    if (d >= 0x8000_0000) d -= 0x1_0000_0000;
    else if (d < -0x8000_0000) d += 0x1_0000_0000;
    this.rawLast = raw;
    this.rawUnwrapped += d;
    return this.rawUnwrapped;
  }

  addSubscriber(sink: Sink): Subscriber {
    const sub = new Subscriber(sink);
    const byProtocol = this.totals.bytesOutByProtocol;
    if (byProtocol) {
      const protocol = sink.protocol ?? sink.format.name;
      let total = byProtocol.get(protocol);
      if (!total) byProtocol.set(protocol, (total = { bytes: 0 }));
      sub.sentTotal = total;
    }
    this.subs.add(sub);
    if (this.publisher) this.startSubscriber(sub);
    else this.armWait(sub, EndReason.NotFound);
    this.onViewersChanged(this);
    return sub;
  }

  removeSubscriber(sub: Subscriber): void {
    if (!this.subs.delete(sub)) return;
    sub.attached = false;
    this.clearWait(sub);
    if (sub.droppedSinceLog > 0) this.logDrops(sub);
    this.onViewersChanged(this);
    if (this.isIdle) this.becameIdle();
  }

  /** Ends every viewer (shutdown) and forgets the publisher. */
  close(reason: EndReason): void {
    this.flushWindow();
    for (const sub of [...this.subs]) {
      this.subs.delete(sub);
      sub.attached = false;
      this.clearWait(sub);
      sub.endedBy = reason;
      sub.sink.end(reason);
    }
    this.publisher = null;
    this.closeTaps();
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
        sub.endedBy = EndReason.Stalled;
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
      sub.endedBy = reason;
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
    if (sub.passive) {
      sub.sink.start({ key: this.key, hasAudio, hasVideo });
      return;
    }
    // Joining during a window: the rest of it comes message by message.
    if (this.shared !== null) this.loose.push(sub);
    // The start burst (preamble, headers, cached GOP) goes out at once, as one writev, outside
    // the coalescing window: time to first frame matters more than one syscall.
    sub.sink.cork();
    const format = sub.sink.format;
    const cached = this.gop.messages;
    const preamble = format.preamble?.(formatState(format, this.formatStates), cached.length > 0) ?? null;
    sub.sink.start({ key: this.key, hasAudio, hasVideo, preamble });
    if (this.metadata) this.send(sub, this.metadata);
    if (this.videoHeader) this.send(sub, this.videoHeader);
    if (this.audioHeader) this.send(sub, this.audioHeader);
    if (cached.length > 0) {
      // The whole cached GOP, exempt from the byte budget (it is bounded by gopCacheMaxBytes):
      // the viewer starts on a key frame and gets every frame after it.
      sub.needKeyFrame = false;
      for (const m of cached) this.send(sub, m);
      this.gop.recount();
    }
    sub.burstEnd = sub.bytesSent;
    sub.sink.uncork();
  }

  private dispatch(msg: MediaMessage): void {
    if (this.subs.size === 0) return;
    const flusher = this.flusher;
    if (msg.kind === MediaKind.Data || msg.isSequenceHeader) {
      // Rare, and exempt from the budget: every viewer gets it on its own, after what the
      // window gathered so far.
      this.flushWindow();
      for (const sub of this.subs) {
        if (!sub.started || sub.passive) continue;
        if (sub.coalesce && !sub.held) flusher.hold(sub);
        this.deliver(sub, msg);
      }
      return;
    }
    const shared = this.shared ?? this.openWindow();
    for (const w of shared) {
      const buf = wireBytes(msg, w.format, this.formatStates);
      w.frames++;
      if (buf.length === 0) continue;
      w.bufs.push(buf);
      w.bytes += buf.length;
    }
    for (const sub of this.loose) {
      if (!sub.attached) continue;
      if (sub.coalesce && !sub.held) flusher.hold(sub);
      this.deliver(sub, msg);
    }
  }

  /** Sorts the viewers for a new window: riders of a format's shared bytes, or loose. */
  private openWindow(): SharedWindow[] {
    const shared: SharedWindow[] = [];
    const loose: Subscriber[] = [];
    for (const sub of this.subs) {
      if (!sub.started || sub.passive) continue;
      if (!sub.sharesWindow || sub.needKeyFrame) {
        loose.push(sub);
        continue;
      }
      const format = sub.sink.format;
      let w = shared.find((x) => x.format === format);
      if (!w) shared.push((w = { format, bufs: [], bytes: 0, frames: 0, riders: [] }));
      w.riders.push(sub);
    }
    this.shared = shared;
    this.loose = loose;
    this.flusher.holdWindow(this);
    return shared;
  }

  /**
   * Ends the open window: each format's bytes go to its riders as one write, except to a rider
   * over its byte budget, which drops the window's frames and waits for the next key frame.
   */
  flushWindow(): void {
    const shared = this.shared;
    if (shared === null) return;
    this.shared = null;
    this.loose = [];
    const max = this.opts.maxBufferedBytes;
    for (const w of shared) {
      if (w.bytes === 0) continue;
      const buf = w.bufs.length === 1 ? w.bufs[0]! : Buffer.concat(w.bufs, w.bytes);
      for (const sub of w.riders) {
        if (!sub.attached) continue;
        const buffered = sub.sink.bufferedBytes;
        if (buffered > max && this.overBudget(sub, buffered)) {
          this.counters.inc('viewer_drop_events');
          this.counters.inc('viewer_dropped_frames', w.frames);
          sub.needKeyFrame = true;
          sub.droppedFrames += w.frames;
          sub.droppedSinceLog += w.frames;
          continue;
        }
        this.sendBytes(sub, buf);
      }
    }
  }

  /** Budget and key frame rules for one viewer and one message. */
  private deliver(sub: Subscriber, msg: MediaMessage): void {
    // A stateful format serializes every message in timeline order, sent or not: a frame this
    // viewer skips may still go to a viewer that joins from the GOP cache later, and its bytes
    // must come from the state as it was at the frame's place in the timeline.
    const format = sub.sink.format;
    if (format.newState) wireBytes(msg, format, this.formatStates);
    // Metadata and sequence headers are small and needed to decode anything later: always sent.
    // (A publisher could label anything a header: only small ones skip the budget.)
    if (
      (msg.kind === MediaKind.Data || msg.isSequenceHeader) &&
      msg.payload.length <= MAX_EXEMPT_HEADER_BYTES
    ) {
      this.send(sub, msg);
      return;
    }
    // A relay must not lose the frame that starts a segment: the edge would merge two segments
    // under one name. One frame per segment, and a relay that stops reading is cut as stalled.
    if (msg.segment !== null && sub.keepsSegmentStarts) {
      if (msg.kind === MediaKind.Video && msg.isKeyFrame) sub.needKeyFrame = false;
      this.send(sub, msg);
      return;
    }
    const buffered = sub.sink.bufferedBytes;
    if (buffered > this.opts.maxBufferedBytes && this.overBudget(sub, buffered)) {
      if (!sub.needKeyFrame) this.counters.inc('viewer_drop_events');
      sub.needKeyFrame = true;
      sub.droppedFrames++;
      sub.droppedSinceLog++;
      this.counters.inc('viewer_dropped_frames');
      return;
    }
    // Only video waits for a key frame: sound keeps playing while the picture catches up.
    if (sub.needKeyFrame && msg.kind === MediaKind.Video) {
      if (!msg.isKeyFrame) return;
      sub.needKeyFrame = false;
    }
    this.send(sub, msg);
  }

  /**
   * Queued bytes that count against the budget: while the start burst is still draining, only
   * what was queued after it (the burst is bounded by gopCacheMaxBytes instead).
   */
  private overBudget(sub: Subscriber, buffered: number): boolean {
    const burstDraining = sub.bytesSent - buffered < sub.burstEnd;
    const queued = burstDraining ? sub.bytesSent - sub.burstEnd : buffered;
    return queued > this.opts.maxBufferedBytes;
  }

  private send(sub: Subscriber, msg: MediaMessage): void {
    const buf = wireBytes(msg, sub.sink.format, this.formatStates);
    // Stateful formats produce nothing for some messages (MPEG-TS: sequence headers, metadata).
    if (buf.length === 0) return;
    this.sendBytes(sub, buf);
  }

  private sendBytes(sub: Subscriber, buf: Buffer): void {
    sub.bytesSent += buf.length;
    this.totals.bytesOut += buf.length;
    sub.sentTotal.bytes += buf.length;
    sub.sink.write(buf);
  }
}
