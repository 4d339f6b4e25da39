import type { Logger } from 'pino';
import { TsMuxer } from '../mpegts/muxer.ts';
import { CleanupMode, defaultDeleteThreshold, RetiredSegments } from './cleanup.ts';
import { LiveWindow } from './live-window.ts';
import { RecordPlaylist } from './record-playlist.ts';
import type { HlsSegment, SegmentStart } from './segment.ts';
import {
  DEFAULT_MAX_SEGMENT_BYTES,
  Segmenter,
  type CutMark,
  type SegmenterFrame,
  type SegmenterMode,
  type SegmentMuxer,
} from './segmenter.ts';
import type { SegmentStore, StreamStore } from './store.ts';

/** File names of the playlists in a stream's directory (lal's names). */
export const LIVE_PLAYLIST_NAME = 'playlist.m3u8';
export const RECORD_PLAYLIST_NAME = 'record.m3u8';

export const DEFAULT_LIST_SIZE = 6;
/** A publisher returning within this time continues the same playlist (the viewers' wait, 30 s). */
export const DEFAULT_CLEANUP_AFTER_END_MS = 30_000;

export interface HlsStreamOptions {
  app: string;
  name: string;
  mode: SegmenterMode;
  /** Segment names `<prefix><seq>.ts`; the integrator puts the stream name and timeline in it. */
  prefix: string;
  /** Put before segment names in the live playlist's URIs (a directory beside the playlist). */
  uriPrefix?: string;
  /** Lead mode: the first sequence number. */
  firstSeq?: number;
  targetMs: number;
  /** Default 3 x targetMs. */
  maxSegmentMs?: number;
  maxSegmentBytes?: number;
  /** Segments in the live playlist (lal's fragment_num). */
  listSize?: number;
  /** Keep a full-list EVENT playlist (record.m3u8): disk store, cleanup mode 0 or 1 only. */
  record?: boolean;
  cleanupMode: CleanupMode;
  /**
   * Segments kept after they left the live window, before deletion (mode 2 and the memory
   * store; lal's delete_threshold). Default listSize + 1 (RFC 8216 §6.2.2).
   */
  deleteThreshold?: number;
  /** After the stream ended: files deleted (modes 1, 2, memory) and onExpired called. */
  cleanupAfterEndMs?: number;
  store: SegmentStore;
  /** Default: a TsMuxer of libs/mpegts. */
  muxer?: SegmentMuxer;
  log: Logger;
  /** A segment opened (lead mode: what the owner announces to edges). */
  onSegment?: (s: SegmentStart, h: HlsStream) => void;
  /** A segment is complete, stored and listed. */
  onSegmentClosed?: (s: HlsSegment, h: HlsStream) => void;
  /** cleanupAfterEndMs after the stream ended with no new frame: the owner may dispose it. */
  onExpired?: (h: HlsStream) => void;
}

export interface HlsStreamStats {
  segments: number;
  bytes: number;
  forcedCuts: number;
  framesDropped: number;
  /** Segments that held nothing the muxer could carry (not listed). */
  emptySegments: number;
  writeErrors: number;
  writesDropped: number;
}

/** A record playlist needs its segments kept: a disk store that does not delete continuously. */
export function recordSupported(storeKind: SegmentStore['kind'], mode: CleanupMode): boolean {
  return storeKind === 'disk' && mode !== CleanupMode.Continuous;
}

/**
 * The HLS output of one stream key: segmenter, live window, optional record playlist, the
 * stream's store and its cleanup. It outlives the hub's Stream (a player may fetch the ENDLIST
 * playlist after the publisher left): its owner creates it, feeds it, calls end() at unpublish
 * and dispose() once it is done with it (onExpired tells when).
 */
export class HlsStream {
  readonly key: string;
  private readonly log: Logger;
  private readonly segmenter: Segmenter;
  private readonly window: LiveWindow;
  private readonly record: RecordPlaylist | null;
  private readonly store: StreamStore;
  /** Segments left the window, waiting for their grace (null: segments are never deleted). */
  private readonly retired: RetiredSegments | null;
  private readonly deletesOnEnd: boolean;
  private readonly cleanupAfterEndMs: number;
  private readonly hooks: Pick<HlsStreamOptions, 'onSegment' | 'onSegmentClosed' | 'onExpired'>;
  private endTimer: NodeJS.Timeout | null = null;
  private ended = false;
  private expired = false;
  private disposed = false;
  private recordFullLogged = false;

  constructor(opts: HlsStreamOptions) {
    this.key = `${opts.app}/${opts.name}`;
    const record = opts.record ?? false;
    if (record && !recordSupported(opts.store.kind, opts.cleanupMode)) {
      throw new RangeError('a record playlist needs a disk store with cleanup mode 0 or 1');
    }
    const listSize = opts.listSize ?? DEFAULT_LIST_SIZE;
    this.log = opts.log.child({ component: 'hls', stream: this.key });
    this.store = opts.store.open(opts.app, opts.name);
    this.window = new LiveWindow({ listSize, targetMs: opts.targetMs, uriPrefix: opts.uriPrefix ?? '' });
    this.record = record ? new RecordPlaylist({ targetMs: opts.targetMs }) : null;
    const memory = opts.store.kind === 'memory';
    this.retired =
      memory || opts.cleanupMode === CleanupMode.Continuous
        ? new RetiredSegments(opts.deleteThreshold ?? defaultDeleteThreshold(listSize))
        : null;
    this.deletesOnEnd = memory || opts.cleanupMode !== CleanupMode.Never;
    this.cleanupAfterEndMs = opts.cleanupAfterEndMs ?? DEFAULT_CLEANUP_AFTER_END_MS;
    this.hooks = opts;
    this.segmenter = new Segmenter({
      mode: opts.mode,
      prefix: opts.prefix,
      ...(opts.firstSeq !== undefined ? { firstSeq: opts.firstSeq } : {}),
      targetMs: opts.targetMs,
      maxSegmentMs: opts.maxSegmentMs ?? 3 * opts.targetMs,
      maxSegmentBytes: opts.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES,
      muxer: opts.muxer ?? new TsMuxer(),
      onOpen: (s) => this.hooks.onSegment?.(s, this),
      onSegment: (s) => this.segmentClosed(s),
    });
  }

  /**
   * A frame of the stream in timeline order (follow mode: `cut` on the owner's cut frames). After
   * end() a frame resumes the stream; after it expired (files deleted) frames are ignored: the
   * owner disposes it and starts a new one.
   */
  push(frame: SegmenterFrame, cut?: CutMark): void {
    if (this.disposed || this.expired) return;
    if (this.ended) {
      this.ended = false;
      this.clearEndTimer();
    }
    this.segmenter.push(frame, cut);
  }

  /** Drops the open segment unfinished; frames wait for the next cut (see Segmenter.abort). */
  abort(): void {
    if (this.disposed || this.expired) return;
    this.segmenter.abort();
  }

  /**
   * The publisher left, maybe for good: the open segment is completed and listed (no ENDLIST yet);
   * frames wait for the next cut, a discontinuity.
   */
  closeOpen(): void {
    if (this.disposed || this.expired || this.ended) return;
    this.segmenter.end();
  }

  /** A publisher is back after end(): the playlist loses its ENDLIST at once. */
  resume(): void {
    if (this.disposed || this.expired || !this.ended) return;
    this.ended = false;
    this.clearEndTimer();
    this.window.resume();
    this.record?.resume();
    this.writePlaylists();
  }

  /** The publisher changed: the next segment starts at the next key frame with a discontinuity. */
  markDiscontinuity(): void {
    this.segmenter.markDiscontinuity();
  }

  /** The stream ended (unpublish): the open segment closes and the playlist gets ENDLIST. */
  end(): void {
    if (this.disposed || this.ended) return;
    this.segmenter.end();
    this.ended = true;
    this.window.end();
    this.record?.end();
    this.writePlaylists();
    this.log.info({ segments: this.segmenter.stats.segments }, 'HLS stream ended');
    this.endTimer = setTimeout(() => this.expire(), this.cleanupAfterEndMs);
    this.endTimer.unref();
  }

  /** The live playlist text, or null (no segment yet, or the stream expired). */
  get livePlaylist(): string | null {
    return this.expired ? null : this.window.playlist;
  }

  get recordPlaylist(): string | null {
    return this.expired ? null : (this.record?.playlist ?? null);
  }

  /** A segment of this stream, or null. */
  readSegment(name: string): Promise<Buffer | null> {
    if (this.expired) return Promise.resolve(null);
    return this.store.readSegment(name);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** cleanupAfterEndMs passed after the end: the files are deleted (unless mode 0), frames ignored. */
  get isExpired(): boolean {
    return this.expired;
  }

  get stats(): HlsStreamStats {
    const s = this.segmenter.stats;
    const st = this.store.stats;
    return {
      segments: s.segments,
      bytes: s.bytes,
      forcedCuts: s.forcedCuts,
      framesDropped: s.framesDropped,
      emptySegments: s.emptySegments,
      writeErrors: st.writeErrors,
      writesDropped: st.writesDropped,
    };
  }

  /** Segments the store holds for this stream (memory) or has written and not deleted (disk). */
  get storedSegments(): number {
    return this.store.segmentCount;
  }

  /** Resolves when the store's queued writes and deletes are done. */
  flush(): Promise<void> {
    return this.store.flush();
  }

  /**
   * The owner is done with this stream: timers stop, and its files go now unless cleanup mode
   * is 0 on disk. Further calls do nothing.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clearEndTimer();
    if (!this.expired && this.deletesOnEnd) this.deleteAll();
  }

  private expire(): void {
    this.endTimer = null;
    if (this.deletesOnEnd) this.deleteAll();
    this.expired = true;
    this.hooks.onExpired?.(this);
  }

  private deleteAll(): void {
    this.retired?.clear();
    this.store.deleteAll();
  }

  private clearEndTimer(): void {
    if (this.endTimer) {
      clearTimeout(this.endTimer);
      this.endTimer = null;
    }
  }

  private segmentClosed(seg: HlsSegment): void {
    this.store.writeSegment(seg.name, seg.bytes);
    const removed = this.window.add(seg);
    if (this.retired && removed.length > 0) {
      for (const name of this.retired.retire(removed.map((r) => r.name))) this.store.deleteSegment(name);
    }
    if (this.record && !this.record.add(seg) && !this.recordFullLogged) {
      this.recordFullLogged = true;
      this.log.warn(
        { segments: this.record.size },
        'HLS record playlist is full: later segments are not listed',
      );
    }
    if (this.segmenter.stats.segments === 1) this.log.info({ segment: seg.name }, 'HLS first segment');
    this.writePlaylists();
    this.hooks.onSegmentClosed?.(seg, this);
  }

  private writePlaylists(): void {
    const live = this.window.playlist;
    if (live !== null) this.store.writePlaylist(LIVE_PLAYLIST_NAME, live);
    const rec = this.record?.playlist ?? null;
    if (rec !== null) this.store.writePlaylist(RECORD_PLAYLIST_NAME, rec);
  }
}
