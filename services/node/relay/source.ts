import { isProtocolError } from '../../../libs/errors/protocol-error.ts';
import type { IncomingFrame } from '../../../libs/stream/index.ts';

/** The protocol label of a relay pull's publisher session (stats, events; the drain skips them). */
export const PullProtocol = {
  Rtmp: 'rtmp-pull',
  Flv: 'flv-pull',
  Rtsp: 'rtsp-pull',
} as const;
export type PullProtocol = (typeof PullProtocol)[keyof typeof PullProtocol];

const PULL_PROTOCOLS: ReadonlySet<string> = new Set(Object.values(PullProtocol));

/** A session protocol that is one of the node's own pulls. */
export function isPullProtocol(protocol: string): boolean {
  return PULL_PROTOCOLS.has(protocol);
}

/** What a source tells the pull that drives it. */
export interface PullSourceEvents {
  /** A frame for the stream, on the source's timeline (dropped by the pull until it is attached). */
  onFrame(frame: IncomingFrame): void;
  /** A malformed frame or packet, skipped (counted and logged once by the pull). */
  onBadFrame(code: string): void;
  /** The source ended: once, null after close(), the cause otherwise. */
  onClose(err: Error | null): void;
}

/**
 * One attempt at one remote stream. `open()` does what needs no claim (connect, RTSP DESCRIBE and
 * SETUP); `play()` starts the media once the pull holds the key. Either rejects on failure.
 */
export interface PullSource {
  readonly protocol: PullProtocol;
  /** host:port of the source. */
  readonly remote: string;
  readonly bytesIn: number;
  open(): Promise<void>;
  play(): Promise<void>;
  close(): Promise<void>;
  /** Loss and reorder counts and the like, for the log line of a failed attempt. */
  stats?(): Record<string, number>;
}

/** Per-attempt settings every source takes. */
export interface PullSourceOptions {
  url: string;
  /** Connect, each request and the first media must come within this. */
  timeoutMs: number;
  rtspTransport: 'tcp' | 'udp';
}

/** `host:port` with IPv6 in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Runs a frame decoder; a ProtocolError becomes onBadFrame, anything else is a bug and rethrown. */
export function guarded(ev: PullSourceEvents, decode: () => void): void {
  try {
    decode();
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    ev.onBadFrame(e.code);
  }
}
