import {
  AacDepacketizer,
  DtsEstimator,
  H264Depacketizer,
  H265Depacketizer,
  parseRtcp,
  parseRtpPacket,
  RtpReorderBuffer,
  RtpTimeline,
  type AccessUnit,
  type RtpPacket,
} from '../../../libs/rtp/index.ts';
import type { TrackCodec } from '../../../libs/rtsp/index.ts';
import type { IncomingFrame } from '../../../libs/stream/index.ts';
import { AudioFrameBuilder, MAX_COMPOSITION_MS, VideoFrameBuilder } from './frame-builder.ts';

/**
 * Every track's times start this far in, so the decode times of a B-frame stream's first frames
 * (below its first presentation time) stay positive.
 */
export const START_LEAD_MS = 200;

/** Audio waits at most this long for the first video frame of a publish with both. */
const MAX_AUDIO_WAIT_FOR_VIDEO_MS = 3_000;

/** UDP: how long packets wait behind a gap for the missing one (reordering on a LAN is sub-ms). */
const MAX_REORDER_WAIT_MS = 100;

type Depacketizer = H264Depacketizer | H265Depacketizer | AacDepacketizer;

/** Loss and reorder counts of a publish, for logs and metrics. */
export interface RecorderStats {
  packets: number;
  lost: number;
  droppedUnits: number;
  /** Packets of tracks we do not carry (an unsupported codec, a track never set up). */
  ignored: number;
  /** Audio frames from before the first video frame, dropped. */
  audioBeforeVideo: number;
}

interface TrackReceiver {
  readonly kind: 'video' | 'audio';
  readonly payloadType: number;
  readonly depacketizer: Depacketizer;
  readonly reorder: RtpReorderBuffer | null;
  readonly timeline: RtpTimeline;
  /** Arrival of this track's first packet after the session's first one (ms): lines tracks up. */
  offsetMs: number | null;
  lastMs: number;
  /** Video: decode times from the presentation times RTP carries (B-frames reorder them). */
  readonly dts: DtsEstimator<AccessUnit> | null;
  readonly video: VideoFrameBuilder | null;
  readonly audio: AudioFrameBuilder | null;
  ssrc: number | null;
  /** When the reorder buffer started holding packets behind a gap. */
  heldSince: number | null;
  highestSeq: number;
  received: number;
}

/**
 * The media side of an RTSP publish (RECORD): RTP packets of the announced tracks in, stream
 * frames out. UDP packets go through a bounded reorder window; a gap drops the incomplete
 * frame and video waits for the next key frame, so what viewers get after a loss decodes.
 */
export class RtspRecorder {
  private readonly tracks: (TrackReceiver | null)[];
  private readonly emit: (f: IncomingFrame) => void;
  private firstArrival: number | null = null;
  readonly stats: RecorderStats = {
    packets: 0,
    lost: 0,
    droppedUnits: 0,
    ignored: 0,
    audioBeforeVideo: 0,
  };

  /** `tracks` by announced index; null for a track we do not carry. */
  constructor(tracks: readonly (TrackCodec | null)[], udp: boolean, emit: (f: IncomingFrame) => void) {
    this.emit = emit;
    this.tracks = tracks.map((c) => (c ? receiverFor(c, udp) : null));
    const kinds = this.tracks.map((t) => t?.kind);
    if (kinds.includes('video') && kinds.includes('audio'))
      this.audioBeforeVideo = { frames: [], since: null };
  }

  /**
   * Audio that came before the first video frame, held (bounded) while a video track is expected:
   * a stream whose first frames are sound only looks audio-only to what cuts HLS segments and
   * writes TS headers. When the picture starts, the sound from its time on follows it.
   */
  private audioBeforeVideo: { frames: IncomingFrame[]; since: number | null } | null = null;

  private emitAudio(f: IncomingFrame): void {
    const held = this.audioBeforeVideo;
    if (!held) {
      this.emit(f);
      return;
    }
    const now = performance.now();
    held.since ??= now;
    held.frames.push(f);
    // A video track that never starts does not hold the sound back for long.
    if (now - held.since > MAX_AUDIO_WAIT_FOR_VIDEO_MS) this.releaseAudio(-Infinity);
  }

  /** Video started at `fromMs` (or gave up on): held audio from then on goes out, earlier is dropped. */
  private releaseAudio(fromMs: number): void {
    const held = this.audioBeforeVideo;
    if (!held) return;
    this.audioBeforeVideo = null;
    for (const f of held.frames) {
      if (f.isSequenceHeader || f.timestampMs >= fromMs) this.emit(f);
      else this.stats.audioBeforeVideo++;
    }
  }

  /** Indexes of the tracks that become stream frames. */
  get carried(): number[] {
    return this.tracks.flatMap((t, i) => (t ? [i] : []));
  }

  /** One RTP packet of track `index` (ProtocolError on a malformed one). */
  rtp(index: number, buf: Buffer): void {
    const track = this.tracks[index];
    if (!track) {
      this.stats.ignored++;
      return;
    }
    const pkt = parseRtpPacket(buf);
    this.stats.packets++;
    track.received++;
    track.ssrc = pkt.ssrc;
    if (!track.reorder) {
      this.depacketize(track, pkt, 0);
      return;
    }
    const r = track.reorder;
    this.release(track, r.push(pkt));
    // A gap is declared by the window (64 packets ahead), which at a low bitrate is seconds: a
    // packet held longer than MAX_REORDER_WAIT_MS is not coming, so the gap is given up on.
    if (r.buffered === 0) track.heldSince = null;
    else {
      const now = performance.now();
      track.heldSince ??= now;
      if (now - track.heldSince > MAX_REORDER_WAIT_MS) this.flushTrack(track);
    }
  }

  /** Gives up on gaps held longer than the reorder wait (called on a timer: a silent publisher too). */
  flushStale(now = performance.now()): void {
    for (const t of this.tracks) {
      if (t?.reorder && t.heldSince !== null && now - t.heldSince > MAX_REORDER_WAIT_MS) this.flushTrack(t);
    }
  }

  private flushTrack(track: TrackReceiver): void {
    track.heldSince = null;
    this.release(track, track.reorder!.flush());
  }

  private release(track: TrackReceiver, r: { packets: RtpPacket[]; lost: number }): void {
    r.packets.forEach((p, i) => this.depacketize(track, p, i === 0 ? r.lost : 0));
  }

  /** RTCP from the publisher: parsed so a malformed packet is noticed; nothing else is needed yet. */
  rtcp(buf: Buffer): void {
    parseRtcp(buf);
  }

  /** Frames still held to measure B-frame reordering (a publish that ends within its first frames). */
  flush(): void {
    for (const t of this.tracks) {
      if (!t?.dts || !t.video) continue;
      for (const f of t.dts.flush()) this.emitVideo(t.video, f.ptsMs, f.dtsMs, f.item);
    }
    this.releaseAudio(-Infinity);
  }

  /** Receiver report fields of a track (for RTCP RR). */
  trackState(index: number): { ssrc: number; highestSeq: number; received: number } | null {
    const t = this.tracks[index];
    return t && t.ssrc !== null ? { ssrc: t.ssrc, highestSeq: t.highestSeq, received: t.received } : null;
  }

  /** Duplicate and late UDP packets (from the reorder buffers), for the publish's end line. */
  get reordering(): { duplicates: number; late: number } {
    return {
      duplicates: this.sumOf((t) => t.reorder?.duplicates ?? 0),
      late: this.sumOf((t) => t.reorder?.late ?? 0),
    };
  }

  private sumOf(f: (t: TrackReceiver) => number): number {
    let n = 0;
    for (const t of this.tracks) if (t) n += f(t);
    return n;
  }

  private depacketize(track: TrackReceiver, pkt: RtpPacket, lost: number): void {
    if (pkt.payloadType !== track.payloadType) {
      this.stats.ignored++;
      return;
    }
    track.highestSeq = pkt.sequenceNumber;
    if (lost > 0) {
      this.stats.lost += lost;
      track.depacketizer.lost();
    }
    const before = track.depacketizer.droppedUnits;
    const units = track.depacketizer.push(pkt);
    this.stats.droppedUnits += track.depacketizer.droppedUnits - before;
    for (const au of units) this.unit(track, au);
  }

  private emitVideo(video: VideoFrameBuilder, ptsMs: number, dtsMs: number, au: AccessUnit): void {
    const dts = Math.round(dtsMs);
    const cts = Math.max(-MAX_COMPOSITION_MS, Math.min(MAX_COMPOSITION_MS, Math.round(ptsMs) - dts));
    for (const f of video.frames(au.units, dts, au.keyFrame, cts)) {
      this.emit(f);
      if (!f.isSequenceHeader) this.releaseAudio(dts);
    }
  }

  private unit(track: TrackReceiver, au: AccessUnit): void {
    const now = performance.now();
    this.firstArrival ??= now;
    track.offsetMs ??= now - this.firstArrival;
    const ms = START_LEAD_MS + track.offsetMs + track.timeline.toMs(au.rtpTimestamp);
    if (track.dts && track.video) {
      const video = track.video;
      for (const t of track.dts.push(ms, au)) this.emitVideo(video, t.ptsMs, t.dtsMs, t.item);
      return;
    }
    // Audio is never reordered; a step back (a publisher's glitch) is sent at the last time.
    let rounded = Math.round(ms);
    if (rounded < track.lastMs) rounded = track.lastMs;
    track.lastMs = rounded;
    for (const u of au.units) for (const f of track.audio!.frames(u, rounded)) this.emitAudio(f);
  }
}

function receiverFor(c: TrackCodec, udp: boolean): TrackReceiver | null {
  if (c.codec === 'unsupported') return null;
  const base = {
    payloadType: c.payloadType,
    reorder: udp ? new RtpReorderBuffer() : null,
    timeline: new RtpTimeline(c.clockRate),
    offsetMs: null,
    lastMs: 0,
    ssrc: null,
    heldSince: null,
    highestSeq: 0,
    received: 0,
  };
  switch (c.codec) {
    case 'h264':
      return {
        ...base,
        kind: 'video',
        depacketizer: new H264Depacketizer(),
        dts: new DtsEstimator<AccessUnit>(),
        video: new VideoFrameBuilder('h264', {
          ...(c.sps ? { sps: c.sps } : {}),
          ...(c.pps ? { pps: c.pps } : {}),
        }),
        audio: null,
      };
    case 'h265':
      return {
        ...base,
        kind: 'video',
        depacketizer: new H265Depacketizer(),
        dts: new DtsEstimator<AccessUnit>(),
        video: new VideoFrameBuilder('h265', {
          ...(c.vps ? { vps: c.vps } : {}),
          ...(c.sps ? { sps: c.sps } : {}),
          ...(c.pps ? { pps: c.pps } : {}),
        }),
        audio: null,
      };
    case 'aac':
      return {
        ...base,
        kind: 'audio',
        depacketizer: new AacDepacketizer({
          sizeLength: c.sizeLength,
          indexLength: c.indexLength,
          indexDeltaLength: c.indexDeltaLength,
        }),
        dts: null,
        video: null,
        audio: new AudioFrameBuilder(c.config),
      };
  }
}
