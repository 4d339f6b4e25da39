export { CleanupMode, isCleanupMode, RetiredSegments } from './cleanup.ts';
export { Cut, decideCut, DEFAULT_CUT_TOLERANCE_MS, DEFAULT_TARGET_MS } from './cut-policy.ts';
export type { CutPolicyOptions, CutState, CutFrame } from './cut-policy.ts';
export {
  HlsStream,
  LIVE_PLAYLIST_NAME,
  RECORD_PLAYLIST_NAME,
  DEFAULT_LIST_SIZE,
  DEFAULT_CLEANUP_AFTER_END_MS,
  recordSupported,
} from './hls-stream.ts';
export type { HlsStreamOptions, HlsStreamStats } from './hls-stream.ts';
export { LiveWindow } from './live-window.ts';
export type { LiveWindowOptions } from './live-window.ts';
export { formatSeconds, renderLivePlaylist, targetDurationFor } from './playlist.ts';
export type { PlaylistEntry, LivePlaylistState } from './playlist.ts';
export { RecordPlaylist, DEFAULT_MAX_RECORD_ENTRIES } from './record-playlist.ts';
export { segmentName } from './segment.ts';
export type { HlsSegment, SegmentStart } from './segment.ts';
export { Segmenter, SegmenterMode, DEFAULT_MAX_SEGMENT_BYTES } from './segmenter.ts';
export type { SegmenterOptions, SegmenterFrame, SegmentMuxer, CutMark, SegmenterStats } from './segmenter.ts';
export { DiskSegmentStore, DEFAULT_MAX_QUEUED_BYTES, QUEUE_FULL } from './store-disk.ts';
export type { DiskSegmentStoreOptions } from './store-disk.ts';
export { MemorySegmentStore } from './store-memory.ts';
export type { SegmentStore, StreamStore, StreamStoreStats, StoreError } from './store.ts';
