import type { MediaMessage } from './media.ts';

/**
 * An in-process consumer of a stream that is not a viewer: an HLS segmenter, a recorder. It sees
 * every message of the stream in timeline order (metadata and sequence headers included), without
 * a byte budget, synchronously on the media path: it must do its work in bounded time and never
 * wait for I/O (recorders queue their writes). A tap that throws is removed from the stream
 * (logged and counted); the stream goes on.
 */
export interface StreamTap {
  /**
   * A publisher attached: a new source on the stream's continuing timeline. `marksFromSource`:
   * its segment marks come from the stream's owner (an edge's relay), not from this node.
   */
  onPublisherStart?(publisherId: string, info: { marksFromSource: boolean }): void;
  onMessage(msg: MediaMessage): void;
  /** The publisher left (a new one may follow while viewers wait). */
  onPublisherStop?(): void;
  /** The stream is gone (idle, or the node shuts down); no more calls follow. */
  close?(): void;
}
