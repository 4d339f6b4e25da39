import type { Logger } from 'pino';
import { CleanupMode } from '../../libs/hls/cleanup.ts';
import { HlsStream } from '../../libs/hls/hls-stream.ts';
import type { SegmentStore } from '../../libs/hls/store.ts';
import type { SegmentMuxer } from '../../libs/hls/segmenter.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { MediaKind, type MediaMessage, type Stream } from '../../libs/stream/index.ts';
import type { HlsConfig } from './media-node.ts';

interface Headers {
  video: MediaMessage | null;
  audio: MediaMessage | null;
}

/** One key's HLS output and how this node maps the owner's marks onto it. */
interface Entry {
  readonly hls: HlsStream;
  /** The owner timeline of the current segment marks (null before the first). */
  timeline: string | null;
  /** Playlist number = mark seq + this: numbers keep increasing across owner timelines. */
  msnOffset: number;
  lastMsn: number;
  /** Owner timeline minus ours, fixed at each cut (an edge's timeline may be shifted). */
  tsOffset: number;
  /** Armed when the publisher left: the playlist ends if none returns in time. */
  endTimer: NodeJS.Timeout | null;
}

export interface HlsOutputsDeps {
  cfg: HlsConfig;
  log: Logger;
  counters: Counters;
  store: SegmentStore;
  newMuxer: () => SegmentMuxer;
  /** A publisher's absence after which the playlist gets EXT-X-ENDLIST (the viewers' wait). */
  endAfterMs: number;
  /** `<name>.hls/`: segment URIs relative to `/app/name.m3u8`. */
  segmentEvent?: (key: string, event: 'open' | 'close', info: Record<string, unknown>) => void;
}

/**
 * The HLS outputs of a node, one per stream key. A stream's tap feeds its HlsStream; segments
 * are cut exactly where the stream's segment marks say (the owner's decision: this node's own
 * SegmentMarker for local publishers, the origin's marks for an edge's relay), named by the
 * owner's timeline and number, so every node serves the same segments. An output outlives its
 * hub stream for keepAfterEndMs so players can read the ENDLIST playlist.
 */
export class HlsOutputs {
  private readonly entries = new Map<string, Entry>();
  /** Playlist requests waiting for a key's first segment. */
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly d: HlsOutputsDeps;

  constructor(d: HlsOutputsDeps) {
    this.d = d;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The HLS output of `key`, if the node has one. */
  get(key: string): HlsStream | undefined {
    return this.entries.get(key)?.hls;
  }

  /** Resolves when `key` has a playlist (true) or after `ms` (false). */
  waitPlaylist(key: string, ms: number): Promise<boolean> {
    if (this.entries.get(key)?.hls.livePlaylist) return Promise.resolve(true);
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let set = this.waiting.get(key);
      if (!set) this.waiting.set(key, (set = new Set()));
      const waiters = set;
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(finish);
        if (waiters.size === 0 && this.waiting.get(key) === waiters) this.waiting.delete(key);
        resolve(this.entries.get(key)?.hls.livePlaylist != null);
      };
      const timer = setTimeout(finish, ms);
      waiters.add(finish);
    });
  }

  /** Feeds `stream` into its key's output (called for every new hub stream). */
  attach(stream: Stream): void {
    const key = stream.key;
    // The current sequence headers, for an output made mid-stream (after the last one expired).
    const headers: Headers = { video: null, audio: null };
    stream.addTap({
      onPublisherStart: () => {
        const e = this.entries.get(key);
        if (e?.endTimer) {
          clearTimeout(e.endTimer);
          e.endTimer = null;
        }
      },
      onMessage: (msg) => {
        if (msg.isSequenceHeader) {
          if (msg.kind === MediaKind.Video) headers.video = msg;
          else if (msg.kind === MediaKind.Audio) headers.audio = msg;
        }
        this.onMessage(key, msg, headers);
      },
      onPublisherStop: () => {
        const e = this.entries.get(key);
        if (!e) return;
        if (e.endTimer) clearTimeout(e.endTimer);
        e.endTimer = setTimeout(() => {
          e.endTimer = null;
          e.hls.end();
        }, this.d.endAfterMs);
        e.endTimer.unref();
      },
      close: () => {
        const e = this.entries.get(key);
        if (!e) return;
        if (e.endTimer) clearTimeout(e.endTimer);
        e.endTimer = null;
        e.hls.end();
      },
    });
  }

  close(): void {
    for (const e of this.entries.values()) {
      if (e.endTimer) clearTimeout(e.endTimer);
      e.hls.dispose();
    }
    this.entries.clear();
    for (const set of [...this.waiting.values()]) for (const f of [...set]) f();
  }

  private onMessage(key: string, msg: MediaMessage, headers: Headers): void {
    let e = this.entries.get(key);
    if (!e || e.hls.isExpired) {
      e = this.create(key);
      // The muxer needs the codec configuration before the first frame it muxes.
      for (const h of [headers.video, headers.audio]) if (h && h !== msg) e.hls.push(h);
    }
    const mark = msg.segment;
    if (!mark) {
      this.push(e, msg);
      return;
    }
    let newTimeline = false;
    if (mark.timeline !== e.timeline) {
      // A new owner timeline (the first mark, another origin, a stream made anew after it
      // expired here): playlist numbers continue from ours.
      newTimeline = e.lastMsn >= 0;
      e.msnOffset = newTimeline ? e.lastMsn + 1 - mark.seq : 0;
      e.timeline = mark.timeline;
    }
    const msn = mark.seq + e.msnOffset;
    if (msn <= e.lastMsn) {
      // A repeated or stale mark (a relay that restarted inside a segment): no cut.
      this.d.counters.inc('hls_marks_ignored');
      this.push(e, msg);
      return;
    }
    e.tsOffset = mark.ts - msg.timestampMs;
    e.lastMsn = msn;
    e.hls.push(this.shifted(e, msg), {
      seq: msn,
      name: `${mark.timeline}-${mark.seq}.ts`,
      discontinuity: mark.discontinuity || newTimeline,
    });
  }

  private push(e: Entry, msg: MediaMessage): void {
    e.hls.push(this.shifted(e, msg));
  }

  private shifted(e: Entry, msg: MediaMessage): MediaMessage {
    return e.tsOffset === 0 ? msg : { ...msg, timestampMs: msg.timestampMs + e.tsOffset };
  }

  private create(key: string): Entry {
    const old = this.entries.get(key);
    if (old) {
      if (old.endTimer) clearTimeout(old.endTimer);
      old.hls.dispose();
    }
    const slash = key.lastIndexOf('/');
    const app = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const cfg = this.d.cfg;

    const hls = new HlsStream({
      app,
      name,
      mode: 'follow',
      prefix: `${name}-`,
      targetMs: cfg.targetMs,
      maxSegmentMs: cfg.maxSegmentMs || 3 * cfg.targetMs,
      maxSegmentBytes: cfg.maxSegmentBytes,
      listSize: cfg.listSize,
      uriPrefix: `${name}.hls/`,
      record: this.d.store.kind === 'disk' && cfg.cleanupMode !== CleanupMode.Continuous,
      cleanupMode: cfg.cleanupMode,
      cleanupAfterEndMs: cfg.keepAfterEndMs,
      deleteThreshold: cfg.deleteThreshold,
      store: this.d.store,
      muxer: this.d.newMuxer(),
      log: this.d.log,
      onSegmentClosed: (seg) => {
        this.d.counters.inc('hls_segments');
        const waiters = this.waiting.get(key);
        if (waiters) for (const f of [...waiters]) f();
        this.d.segmentEvent?.(key, 'close', {
          name: seg.name,
          seq: seg.seq,
          durationMs: seg.durationMs,
          bytes: seg.bytes.length,
        });
      },
      onExpired: (h) => {
        if (this.entries.get(key)?.hls !== h) return;
        this.entries.delete(key);
        h.dispose();
      },
    });
    const entry: Entry = { hls, timeline: null, msnOffset: 0, lastMsn: -1, tsOffset: 0, endTimer: null };
    this.entries.set(key, entry);
    return entry;
  }
}
