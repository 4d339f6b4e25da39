import { connect, type Socket } from 'node:net';
import { describeError, newPlayerStats, type BenchPlayer } from './players.ts';
import { RtspInterleavedScanner, type RtspBenchResponse, type VideoCodec } from './rtsp-scanner.ts';

/** Sluice's default session timeout is 60 s; keepalives go at a third of what the server announces. */
const DEFAULT_KEEPALIVE_MS = 20_000;
const MIN_KEEPALIVE_MS = 1_000;

interface SdpTrack {
  kind: 'video' | 'audio';
  control: string;
  codec: VideoCodec;
}

/** The m= sections of an SDP (RFC 8866 §5.14) with their control URL (RFC 2326 §C.1.1); just enough. */
export function sdpTracks(sdp: string, base: string): SdpTrack[] {
  const out: SdpTrack[] = [];
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const kind = section.startsWith('video') ? 'video' : section.startsWith('audio') ? 'audio' : null;
    if (!kind) continue;
    const c = /^a=control:(\S+)/m.exec(section)?.[1] ?? '';
    const control = /^rtsp:\/\//i.test(c)
      ? c
      : c === '' || c === '*'
        ? base
        : `${base.replace(/\/+$/, '')}/${c}`;
    out.push({ kind, control, codec: /^a=rtpmap:\d+ (H265|HEVC)\//im.test(section) ? 'h265' : 'h264' });
  }
  return out;
}

const Step = { Describe: 0, Setup: 1, Play: 2, Playing: 3 } as const;
type Step = (typeof Step)[keyof typeof Step];

/**
 * An RTSP player over TCP on a raw socket: DESCRIBE, SETUP per track (track i interleaved on
 * channels 2i-2i+1), PLAY, requests written by hand one at a time; then the interleaved records
 * are only scanned. No timers once playing: a GET_PARAMETER keepalive rides on incoming data.
 */
export class RtspBenchPlayer implements BenchPlayer {
  readonly stats = newPlayerStats();
  readonly scanner = new RtspInterleavedScanner();
  private readonly socket: Socket;
  private readonly url: string;
  private received = 0;
  private cseq = 0;
  private step: Step = Step.Describe;
  private tracks: SdpTrack[] = [];
  private setupIndex = 0;
  private session: string | null = null;
  private keepaliveMs = DEFAULT_KEEPALIVE_MS;
  private lastRequestAt = 0;

  constructor(url: string, timeoutMs: number) {
    this.url = url;
    this.stats.seqGaps = 0;
    this.stats.bestOffsetMs = Number.POSITIVE_INFINITY;
    const u = new URL(url);
    this.scanner.onFirstKeyFrame = () => {
      this.stats.firstKeyFrameMs = performance.now() - this.stats.startedAt;
    };
    this.scanner.onResponse = (r) => this.onResponse(r);
    this.socket = connect({ host: u.hostname, port: Number(u.port || 554) });
    this.socket.setNoDelay(true);
    this.socket.setTimeout(timeoutMs);
    this.socket.on('connect', () => this.request('DESCRIBE', url, 'Accept: application/sdp\r\n'));
    this.socket.on('data', (d: Buffer) => this.onBytes(d));
    this.socket.on('timeout', () => this.fail(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => {
      if (!this.stats.stopped && this.stats.connectMs >= 0) this.stats.endedEarly ??= 'closed';
      else if (!this.stats.stopped) this.stats.failure ??= 'closed';
    });
  }

  get bytesIn(): number {
    return this.received;
  }

  private request(method: string, url: string, extra = ''): void {
    const session = this.session === null ? '' : `Session: ${this.session}\r\n`;
    this.socket.write(`${method} ${url} RTSP/1.0\r\nCSeq: ${++this.cseq}\r\n${session}${extra}\r\n`);
    this.lastRequestAt = performance.now();
  }

  private onBytes(d: Buffer): void {
    this.received += d.length;
    try {
      this.scanner.push(d);
    } catch (e) {
      this.fail(e);
      return;
    }
    const s = this.scanner;
    this.stats.lastTimestampMs = s.lastVideoMs;
    this.stats.seqGaps = s.seqGaps[0]! + s.seqGaps[2]!;
    if (this.step === Step.Playing && performance.now() - this.lastRequestAt > this.keepaliveMs)
      this.request('GET_PARAMETER', this.url);
  }

  private onResponse(r: RtspBenchResponse): void {
    if (this.step === Step.Playing) return; // keepalive answers
    if (r.status !== 200)
      return this.fail(Object.assign(new Error(`RTSP ${r.status}`), { code: `RTSP ${r.status}` }));
    if (this.step === Step.Describe) {
      this.tracks = sdpTracks(r.body.toString('latin1'), this.url).slice(0, 2);
      if (this.tracks.length === 0)
        return this.fail(Object.assign(new Error('no tracks'), { code: 'RTSP_NO_TRACKS' }));
      const v = this.tracks.findIndex((t) => t.kind === 'video');
      this.scanner.videoChannel = v < 0 ? -1 : 2 * v;
      this.scanner.videoCodec = this.tracks[v]?.codec ?? 'h264';
      this.step = Step.Setup;
      return this.setupNext();
    }
    if (r.session !== null) this.session = r.session;
    if (r.timeoutS !== null) this.keepaliveMs = Math.max(MIN_KEEPALIVE_MS, (r.timeoutS * 1000) / 3);
    if (this.step === Step.Setup) {
      if (this.setupIndex < this.tracks.length) return this.setupNext();
      this.step = Step.Play;
      return this.request('PLAY', this.url, 'Range: npt=0.000-\r\n');
    }
    this.step = Step.Playing;
    this.stats.connectMs = performance.now() - this.stats.startedAt;
    this.socket.setTimeout(0);
  }

  private setupNext(): void {
    const i = this.setupIndex++;
    const t = this.tracks[i]!;
    this.request('SETUP', t.control, `Transport: RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}\r\n`);
  }

  private fail(e: unknown): void {
    if (this.stats.stopped) return;
    if (this.stats.connectMs < 0) this.stats.failure ??= describeError(e);
    else this.stats.endedEarly ??= describeError(e);
    this.socket.destroy();
  }

  stop(): void {
    this.stats.stopped = true;
    this.socket.destroy();
  }
}
