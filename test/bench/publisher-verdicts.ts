import { spread, type Spread } from './report.ts';

/** A publisher is behind when its socket holds more than this much of its bitrate at a sample... */
export const BEHIND_QUEUE_S = 1;
/** ...or when a tag went out later than due by more than this (the bench's own pacing delay)... */
export const BEHIND_LATE_MS = 500;
/** ...or when the server ingested less than this share of what it sent in the window. */
export const BEHIND_INGEST_RATIO = 0.9;

/** One publisher over the measurement window. */
export interface PublisherWindow {
  /** Tag bodies sent: comparable with the server's bytesIn. */
  payloadBytes: number;
  /** Socket bytes written (chunk headers included). */
  socketBytes: number;
  /** Largest socket writableLength at a sample. */
  maxQueuedBytes: number;
  /** Largest lateness of a tag against its due time. */
  maxLateMs: number;
  /** The server's bytesIn of this stream over the window; null when it did not list the stream. */
  ingestBytes: number | null;
  /** Why the connection ended before the bench stopped it, or null. */
  closed: string | null;
}

export interface PublishersBehind {
  /** Each publisher once, whatever its reasons. */
  total: number;
  queued: number;
  late: number;
  /** Server ingest below BEHIND_INGEST_RATIO, or the stream missing from its list. */
  ingest: number;
  closed: number;
}

export interface PublisherVerdicts {
  publishers: number;
  /** Socket kbps per publisher over the window. */
  kbps: Spread | null;
  /** Server ingest / payload sent, per publisher that the server listed. */
  ingestRatio: Spread | null;
  /** Largest queue per publisher, in ms of the stream's bitrate. */
  maxQueuedMs: Spread | null;
  maxLateMs: Spread | null;
  behind: PublishersBehind;
}

/**
 * The "behind" verdicts; `streamKbps` is the file's bitrate, which sets the 1 s queue bound.
 * Without `ingest` (the server's API did not answer) the ingest check is skipped.
 */
export function judgePublishers(
  w: PublisherWindow[],
  windowS: number,
  streamKbps: number,
  checks: { ingest: boolean } = { ingest: true },
): PublisherVerdicts {
  const bytesPerS = (streamKbps * 1000) / 8;
  const behind: PublishersBehind = { total: 0, queued: 0, late: 0, ingest: 0, closed: 0 };
  const ratios: number[] = [];
  for (const p of w) {
    const queued = p.maxQueuedBytes > BEHIND_QUEUE_S * bytesPerS;
    const late = p.maxLateMs > BEHIND_LATE_MS;
    if (p.ingestBytes !== null && p.payloadBytes > 0) ratios.push(p.ingestBytes / p.payloadBytes);
    const ingest =
      checks.ingest && (p.ingestBytes === null || p.ingestBytes < BEHIND_INGEST_RATIO * p.payloadBytes);
    const closed = p.closed !== null;
    if (queued) behind.queued++;
    if (late) behind.late++;
    if (ingest) behind.ingest++;
    if (closed) behind.closed++;
    if (queued || late || ingest || closed) behind.total++;
  }
  return {
    publishers: w.length,
    kbps: spread(w.map((p) => (p.socketBytes * 8) / 1000 / windowS)),
    ingestRatio: spread(ratios),
    maxQueuedMs: spread(w.map((p) => (p.maxQueuedBytes / bytesPerS) * 1000)),
    maxLateMs: spread(w.map((p) => p.maxLateMs)),
    behind,
  };
}
