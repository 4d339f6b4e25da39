import type { Logger } from 'pino';
import type { Counters } from '../metrics/counters.ts';
import { Flusher } from './flusher.ts';
import { EndReason } from './sink.ts';
import { Stream, type ByteTotals, type StreamOptions } from './stream.ts';

export interface StreamSummary {
  key: string;
  publisher: { id: string; since: number } | null;
  subscribers: number;
  viewers: {
    id: string;
    format: string;
    since: number;
    started: boolean;
    bufferedBytes: number;
    bytesSent: number;
    droppedFrames: number;
  }[];
  framesIn: number;
  bytesIn: number;
  /** Bytes the GOP cache holds: payloads and every serialized copy. */
  gopCacheBytes: number;
}

/**
 * All streams of a node, by key `app/name`. Streams are created on first use (publisher or
 * viewer) and forgotten when they have neither.
 */
export class StreamHub {
  private readonly streams = new Map<string, Stream>();
  private readonly opts: StreamOptions;
  private readonly log: Logger;
  private readonly counters: Counters;
  private readonly timer: NodeJS.Timeout;
  /** One write-coalescing window for every stream of the node. */
  readonly flusher: Flusher;
  /** Bytes in from publishers and out to viewers since start, all streams. */
  readonly totals: ByteTotals & { bytesOutByProtocol: Map<string, { bytes: number }> } = {
    bytesIn: 0,
    bytesOut: 0,
    bytesOutByProtocol: new Map(),
  };
  /** Called after a viewer joined or left a stream (edges drive relays with it). */
  onViewersChanged: ((s: Stream) => void) | null = null;
  /** Called once for each new stream, before anything is written to it (taps attach here). */
  onStreamCreated: ((s: Stream) => void) | null = null;

  constructor(opts: StreamOptions, deps: { log: Logger; counters: Counters }) {
    this.opts = opts;
    this.log = deps.log;
    this.counters = deps.counters;
    this.flusher = new Flusher(opts.writeCoalesceMs);
    this.timer = setInterval(() => this.sweep(), 1000);
    this.timer.unref();
  }

  get size(): number {
    return this.streams.size;
  }

  /** Every stream now (for scrape-time gauges). */
  all(): IterableIterator<Stream> {
    return this.streams.values();
  }

  keys(): IterableIterator<string> {
    return this.streams.keys();
  }

  get(key: string): Stream | undefined {
    return this.streams.get(key);
  }

  getOrCreate(key: string): Stream {
    let s = this.streams.get(key);
    if (!s) {
      s = new Stream(key, this.opts, {
        log: this.log,
        counters: this.counters,
        onIdle: (st) => {
          if (this.streams.get(st.key) === st) this.streams.delete(st.key);
        },
        onViewersChanged: (st) => this.onViewersChanged?.(st),
        totals: this.totals,
        flusher: this.flusher,
      });
      this.streams.set(key, s);
      this.onStreamCreated?.(s);
    }
    return s;
  }

  list(): StreamSummary[] {
    return [...this.streams.values()].map((s) => ({
      key: s.key,
      publisher: s.publisherHandle ? { ...s.publisherHandle } : null,
      subscribers: s.subscriberCount,
      viewers: [...s.subscribers].map((sub) => ({
        id: sub.sink.id,
        format: sub.sink.format.name,
        since: sub.since,
        started: sub.started,
        bufferedBytes: sub.sink.bufferedBytes,
        bytesSent: sub.bytesSent,
        droppedFrames: sub.droppedFrames,
      })),
      framesIn: s.framesIn,
      bytesIn: s.bytesIn,
      gopCacheBytes: s.gopCacheBytes,
    }));
  }

  /** Ends the viewer whose sink has this id (an operator's kick); false when no stream has it. */
  kick(sinkId: string): boolean {
    for (const s of this.streams.values()) {
      for (const sub of s.subscribers) {
        if (sub.sink.id !== sinkId) continue;
        s.removeSubscriber(sub);
        sub.endedBy = EndReason.Kicked;
        sub.sink.end(EndReason.Kicked);
        return true;
      }
    }
    return false;
  }

  sweep(now = Date.now()): void {
    for (const s of this.streams.values()) s.sweep(now);
  }

  close(): void {
    clearInterval(this.timer);
    for (const s of this.streams.values()) s.close(EndReason.Shutdown);
    this.streams.clear();
    this.flusher.flush();
  }
}
