import { join } from 'node:path';
import type { Logger } from 'pino';
import { CleanupMode } from '../../libs/hls/cleanup.ts';
import { HlsStream } from '../../libs/hls/hls-stream.ts';
import type { SegmentStore } from '../../libs/hls/store.ts';
import type { SegmentMuxer } from '../../libs/hls/segmenter.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { MediaKind, type MediaMessage, type Stream } from '../../libs/stream/index.ts';
import type { RecordFileEnd, RecordFileInfo } from '../../libs/record/record-file.ts';
import type { HlsConfig } from './media-node.ts';
import { SEGMENT_DIR_SUFFIX } from './hls-paths.ts';
import type { HlsSegmentInfo } from './hooks.ts';

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
  /** Segment files on disk (`hls.store: disk`): reported like recording files (record events). */
  segmentFiles?: {
    /** Where a stream's segment files are: `<dir>/<app>/<name>.hls`. */
    dirOf(app: string, name: string): string;
    opened(info: RecordFileInfo): void;
    closed(end: RecordFileEnd): void;
  };
  /** Every segment opened and closed (webhooks' on_hls_make_ts). */
  segments?: (s: HlsSegmentInfo) => void;
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
  /** The current publisher of each key (for segment file events). */
  private readonly publishers = new Map<string, string>();
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
    // The source's marks come from the owner (an edge's relay): its segments must be whole.
    let relayed = false;
    stream.addTap({
      onPublisherStart: (id, info) => {
        relayed = info.marksFromSource;
        this.publishers.set(key, id);
        const e = this.entries.get(key);
        if (!e) return;
        if (e.endTimer) {
          clearTimeout(e.endTimer);
          e.endTimer = null;
        }
        // Live again: no ENDLIST for new players while the first new segment is being cut.
        e.hls.resume();
        // Nothing before the new source's first mark joins a segment (a relay's restart burst,
        // another owner's frames, the next publisher's frames before its first key frame).
        e.hls.abort();
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
        // A local publisher's last segment is whole and ours to list; a relay's is not (the
        // owner may have cut it later than we saw): listing it would serve other bytes under
        // the owner's name.
        if (relayed) e.hls.abort();
        else e.hls.closeOpen();
        if (e.endTimer) clearTimeout(e.endTimer);
        e.endTimer = setTimeout(() => {
          e.endTimer = null;
          e.hls.end();
        }, this.d.endAfterMs);
        e.endTimer.unref();
      },
      close: () => {
        this.publishers.delete(key);
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
      newTimeline = e.lastMsn >= 0;
      e.timeline = mark.timeline;
      // Owners number from their epoch (a clock), so a new owner's numbers are higher. Should a
      // clock have gone back, numbers continue from ours instead (this node only).
      e.msnOffset = mark.seq > e.lastMsn ? 0 : e.lastMsn + 1 - mark.seq;
      if (e.msnOffset !== 0) this.d.counters.inc('hls_marks_renumbered');
    }
    const msn = mark.seq + e.msnOffset;
    if (msn <= e.lastMsn) {
      // A repeated or stale mark (a relay that restarted inside a segment): no cut.
      this.d.counters.inc('hls_marks_ignored');
      this.push(e, msg);
      return;
    }
    // A number skipped on the same timeline: the open segment ran into the next one (a lost
    // mark). It is not the owner's segment: drop it rather than serve it under its name.
    if (!newTimeline && e.lastMsn >= 0 && msn !== e.lastMsn + 1) e.hls.abort();
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
    const files = this.d.segmentFiles;
    const dir = files?.dirOf(app, `${name}${SEGMENT_DIR_SUFFIX}`) ?? '';
    const fileInfo = (segName: string): RecordFileInfo => ({
      key,
      format: 'hls',
      path: join(dir, segName),
      sessionId: this.publishers.get(key) ?? 'none',
    });
    const segments = this.d.segments;
    const segmentEvent = (
      phase: 'open' | 'close',
      s: { name: string; seq: number },
      durationMs: number,
    ): void =>
      segments?.({
        key,
        phase,
        name: s.name,
        seq: s.seq,
        durationMs,
        file: files ? join(dir, s.name) : `/${app}/${name}${SEGMENT_DIR_SUFFIX}/${s.name}`,
        playlist: `/${key}.m3u8`,
      });

    const hls = new HlsStream({
      app,
      // On disk `<dir>/<app>/<name>.hls/`, like the URLs: `live/cam` and `live/cam/hd` never
      // share a directory (app segments ending in .hls are reserved for this).
      name: this.d.store.kind === 'disk' ? `${name}${SEGMENT_DIR_SUFFIX}` : name,
      mode: 'follow',
      prefix: `${name}-`,
      targetMs: cfg.targetMs,
      maxSegmentMs: cfg.maxSegmentMs || 3 * cfg.targetMs,
      maxSegmentBytes: cfg.maxSegmentBytes,
      listSize: cfg.listSize,
      deleteThreshold: cfg.deleteThreshold,
      uriPrefix: `${name}.hls/`,
      record: this.d.store.kind === 'disk' && cfg.cleanupMode !== CleanupMode.Continuous,
      cleanupMode: cfg.cleanupMode,
      cleanupAfterEndMs: cfg.keepAfterEndMs,
      store: this.d.store,
      muxer: this.d.newMuxer(),
      log: this.d.log,
      onSegmentClosed: (seg) => {
        this.d.counters.inc('hls_segments');
        const waiters = this.waiting.get(key);
        if (waiters) for (const f of [...waiters]) f();
        if (files) {
          files.closed({
            ...fileInfo(seg.name),
            bytes: seg.bytes.length,
            durationMs: Math.round(seg.durationMs),
            droppedFrames: 0,
            reason: 'segment complete',
          });
        }
        segmentEvent('close', seg, Math.round(seg.durationMs));
      },
      ...(files || segments
        ? {
            onSegment: (s: { name: string; seq: number }) => {
              files?.opened(fileInfo(s.name));
              segmentEvent('open', s, 0);
            },
          }
        : {}),
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
