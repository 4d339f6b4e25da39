import type { OutputFormat } from './output-format.ts';

export const EndReason = {
  NotFound: 'not-found',
  Unpublished: 'unpublished',
  Stalled: 'stalled',
  Shutdown: 'shutdown',
  /** An operator ended this viewer (the HTTP API's kick). */
  Kicked: 'kicked',
} as const;
export type EndReason = (typeof EndReason)[keyof typeof EndReason];

/** What the stream tells a viewer about the stream when it starts (for format preambles). */
export interface StreamStartInfo {
  readonly key: string;
  readonly hasAudio: boolean;
  readonly hasVideo: boolean;
  /** Bytes of a stateful format to send before anything else (MPEG-TS PAT/PMT), if it has any. */
  readonly preamble?: Buffer | null;
}

/**
 * A viewer connection as the stream sees it. Implementations wrap a socket, an HTTP
 * response or a WebSocket; they never copy the buffers they are given.
 */
export interface Sink {
  readonly id: string;
  readonly format: OutputFormat;
  /** What the viewer plays over (`rtmp`, `http-flv`, `ws-flv`, `http-ts`, `ws-ts`, `hls`, `relay`), for metrics; defaults to the format name. */
  readonly protocol?: string;
  /**
   * False for the few sinks whose latency matters more than a syscall (relay pulls feeding an
   * edge): they are not held in the write-coalescing window.
   */
  readonly coalesce?: boolean;
  /**
   * True for a byte-stream viewer that may get a coalescing window's bytes as one write, shared
   * with the other viewers of its format (RTMP, HTTP/WebSocket FLV and TS): the stream then
   * touches it once per window instead of once per message. Sinks that look at each message's
   * bytes (RTSP routes packets, relays keep segment starts) leave it unset.
   */
  readonly sharesWindow?: boolean;
  /**
   * True for a viewer that is counted (stats, sessions, an edge's relay) but fetches media some
   * other way (an HLS session polling segments): the stream sends it only start() and end().
   */
  readonly passive?: boolean;
  /**
   * True for a relay to an edge: frames that start an HLS segment (they carry the owner's mark)
   * are never dropped for the byte budget, so every edge cuts the same segments.
   */
  readonly keepsSegmentStarts?: boolean;
  /** Bytes accepted by write() that have not reached the kernel yet. */
  readonly bufferedBytes: number;
  /** The stream has a publisher: send the format preamble (FLV header, RTMP Play.Start...). */
  start(info: StreamStartInfo): void;
  write(buf: Buffer): void;
  cork(): void;
  uncork(): void;
  /** The server ends this viewer (not found, publisher gone, stalled). The sink closes its connection. */
  end(reason: EndReason): void;
}
