import type { StreamMediaInfo } from '../../../libs/cluster/types.ts';
import type { Stream, StreamHub } from '../../../libs/stream/index.ts';
import { mediaInfoFromSequenceHeader } from '../media-info.ts';
import type { NodeObserver, SessionEnd, SessionInfo } from '../hooks.ts';

/** Byte samples kept per session: rates are over the last SAMPLES-1 ticks (lal: 5 s). */
const SAMPLES = 6;
const TICK_MS = 1000;
/** Frames-per-second records kept per stream (lal's in_frame_per_sec). */
const FPS_RECORDS = 10;

export interface SessionStat {
  info: SessionInfo;
  startedAt: number;
  bytesIn: number;
  bytesOut: number;
  /** kbit/s over the recent window. */
  readKbps: number;
  writeKbps: number;
}

interface Tracked {
  info: SessionInfo;
  startedAt: number;
  /** [at, bytesIn, bytesOut] samples, oldest first. */
  samples: [number, number, number][];
}

/**
 * The node's live sessions for the HTTP API: fed by MediaNode.observe (starts, stops, media
 * info) and sampled from the hub once a second for byte counts, bitrates and frame rates.
 */
export class SessionTable implements NodeObserver {
  private readonly sessions = new Map<string, Tracked>();
  private readonly media = new Map<string, StreamMediaInfo>();
  private readonly fps = new Map<string, { last: number; records: { unix_sec: number; v: number }[] }>();
  private readonly headerInfo = new WeakMap<Buffer, StreamMediaInfo>();
  private readonly hub: StreamHub;
  private readonly timer: NodeJS.Timeout;

  constructor(hub: StreamHub) {
    this.hub = hub;
    this.timer = setInterval(() => this.tick(Date.now()), TICK_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  sessionStarted(s: SessionInfo): void {
    this.sessions.set(s.sessionId, { info: s, startedAt: Date.now(), samples: [] });
  }

  sessionStopped(s: SessionEnd): void {
    this.sessions.delete(s.sessionId);
    if (s.kind === 'publisher') this.media.delete(s.key);
  }

  publishMediaInfo(key: string, _sessionId: string, media: StreamMediaInfo): void {
    this.media.set(key, { ...this.media.get(key), ...media });
  }

  get(id: string): SessionInfo | undefined {
    return this.sessions.get(id)?.info;
  }

  /** Every session now, with bytes and rates. */
  list(): SessionStat[] {
    const bytes = this.bytesNow();
    return [...this.sessions.values()].map((t) => this.statOf(t, bytes, Date.now()));
  }

  /** Codec and size of a stream: from its publish, else from its sequence headers (an edge's relay). */
  mediaOf(s: Stream): StreamMediaInfo {
    const known = this.media.get(s.key);
    if (known?.videoCodec && known.width) return known;
    const out: StreamMediaInfo = { ...known };
    const { video, audio } = s.codecHeaders;
    for (const h of [video, audio]) {
      if (!h) continue;
      let info = this.headerInfo.get(h.payload);
      if (!info) this.headerInfo.set(h.payload, (info = mediaInfoFromSequenceHeader(h.kind, h.payload)));
      Object.assign(out, info);
    }
    return out;
  }

  /** Frames in per second, the last few seconds (oldest first). */
  framesPerSec(key: string): { unix_sec: number; v: number }[] {
    return [...(this.fps.get(key)?.records ?? [])];
  }

  /** Bytes in and out per session id now, from the hub (viewers and publishers). */
  private bytesNow(): Map<string, [number, number]> {
    const out = new Map<string, [number, number]>();
    for (const s of this.hub.all()) {
      const pub = s.publisherHandle;
      if (pub) out.set(pub.id, [s.bytesIn, 0]);
      for (const sub of s.subscribers) out.set(sub.sink.id, [0, sub.bytesSent]);
    }
    return out;
  }

  private statOf(t: Tracked, bytes: Map<string, [number, number]>, now: number): SessionStat {
    const [bytesIn, bytesOut] = bytes.get(t.info.sessionId) ?? [0, 0];
    const first = t.samples[0];
    let readKbps = 0;
    let writeKbps = 0;
    if (first && now - first[0] >= 500) {
      const dtMs = now - first[0];
      readKbps = Math.round(((bytesIn - first[1]) * 8) / dtMs);
      writeKbps = Math.round(((bytesOut - first[2]) * 8) / dtMs);
    }
    return { info: t.info, startedAt: t.startedAt, bytesIn, bytesOut, readKbps, writeKbps };
  }

  private tick(now: number): void {
    const bytes = this.bytesNow();
    for (const t of this.sessions.values()) {
      const [bi, bo] = bytes.get(t.info.sessionId) ?? [0, 0];
      t.samples.push([now, bi, bo]);
      if (t.samples.length > SAMPLES) t.samples.shift();
    }
    const unixSec = Math.floor(now / 1000);
    const seen = new Set<string>();
    for (const s of this.hub.all()) {
      seen.add(s.key);
      let f = this.fps.get(s.key);
      if (!f) this.fps.set(s.key, (f = { last: s.framesIn, records: [] }));
      f.records.push({ unix_sec: unixSec, v: s.framesIn - f.last });
      f.last = s.framesIn;
      if (f.records.length > FPS_RECORDS) f.records.shift();
    }
    for (const key of this.fps.keys()) if (!seen.has(key)) this.fps.delete(key);
  }
}
