export { MediaKind, createMediaMessage, type MediaMessage } from './media.ts';
export { defineOutputFormat, defineStatefulFormat, wireBytes, type OutputFormat } from './output-format.ts';
export { EndReason, type Sink, type StreamStartInfo } from './sink.ts';
export { GopCache } from './gop-cache.ts';
export {
  Stream,
  Subscriber,
  type StreamOptions,
  type PublisherHandle,
  type IncomingFrame,
  type ByteTotals,
  type AttachOptions,
} from './stream.ts';
export { SegmentMarker, type SegmentMark, type SegmentMarkerOptions } from './segment-marker.ts';
export { StreamHub, type StreamSummary } from './hub.ts';
export type { StreamTap } from './tap.ts';
