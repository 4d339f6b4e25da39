import {
  parseRtspUrl,
  RtspClient,
  RtspClientError,
  RtspClientErrorCode,
  type RtspClientTrack,
  type TrackCodec,
} from '../../../libs/rtsp/index.ts';
import { RtspRecorder } from '../rtsp/recorder.ts';
import {
  guarded,
  hostPort,
  PullProtocol,
  type PullSource,
  type PullSourceEvents,
  type PullSourceOptions,
} from './source.ts';

/** UDP: how often packets held behind a gap are checked for giving up on it (as an RTSP publish). */
const REORDER_FLUSH_MS = 50;

/**
 * Plays an RTSP(S) URL (a camera, another server): OPTIONS, DESCRIBE and SETUP of the first
 * H.264/H.265 and the first AAC track in open(), PLAY in play(); RTP becomes frames through an
 * RtspRecorder, as for an RTSP publish.
 */
export class RtspPullSource implements PullSource {
  readonly protocol = PullProtocol.Rtsp;
  readonly remote: string;
  private readonly opts: PullSourceOptions;
  private readonly ev: PullSourceEvents;
  private readonly client: RtspClient;
  private recorder: RtspRecorder | null = null;
  private chosen: number[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Codec names of the tracks played, for the connect log. */
  tracks: string[] = [];

  constructor(opts: PullSourceOptions, ev: PullSourceEvents) {
    const u = parseRtspUrl(opts.url);
    this.remote = hostPort(u.host, u.port);
    this.opts = opts;
    this.ev = ev;
    this.client = new RtspClient({
      url: opts.url,
      transport: opts.rtspTransport,
      requestTimeoutMs: opts.timeoutMs,
      readTimeoutMs: opts.timeoutMs,
      onRtp: (track, packet) => this.packet(track, packet, false),
      onRtcp: (track, packet) => this.packet(track, packet, true),
      onClose: (err) => this.end(err),
    });
  }

  get bytesIn(): number {
    return this.client.bytesIn;
  }

  async open(): Promise<void> {
    const tracks = await this.client.open();
    const chosen = pickTracks(tracks);
    if (chosen.length === 0) {
      throw new RtspClientError(
        RtspClientErrorCode.NoTracks,
        `no H.264, H.265 or AAC track (offered: ${tracks.map((t) => codecName(t.codec)).join(', ') || 'none'})`,
      );
    }
    this.chosen = chosen;
    this.tracks = chosen.map((i) => codecName(tracks[i]!.codec));
    const codecs: (TrackCodec | null)[] = tracks.map((t) => (chosen.includes(t.index) ? t.codec : null));
    const udp = this.opts.rtspTransport === 'udp';
    this.recorder = new RtspRecorder(codecs, udp, (f) => this.ev.onFrame(f));
    if (udp) {
      this.flushTimer = setInterval(() => this.recorder?.flushStale(), REORDER_FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  async play(): Promise<void> {
    await this.client.play(this.chosen);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.client.close(); // TEARDOWN; onClose(null) ends it
    this.end(null);
  }

  stats(): Record<string, number> {
    return { ...(this.recorder?.stats ?? {}) };
  }

  /** One RTP or RTCP packet; a malformed one is skipped and counted, never fatal. */
  private packet(track: number, buf: Buffer, rtcp: boolean): void {
    const rec = this.recorder;
    if (!rec || this.closed) return;
    guarded(this.ev, () => {
      if (rtcp) rec.rtcp(buf);
      else rec.rtp(track, buf);
    });
  }

  private end(err: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (err) this.client.destroy(err);
    this.ev.onClose(err);
  }
}

/** The first H.264/H.265 track and the first AAC track, by SDP index. */
export function pickTracks(tracks: readonly RtspClientTrack[]): number[] {
  const video = tracks.find((t) => t.codec.codec === 'h264' || t.codec.codec === 'h265');
  const audio = tracks.find((t) => t.codec.codec === 'aac');
  return [video, audio].flatMap((t) => (t ? [t.index] : []));
}

function codecName(c: TrackCodec): string {
  return c.codec === 'unsupported' ? c.encoding : c.codec;
}
