import type { AudioSpecificConfig } from '../codec/aac/asc.ts';
import { ProtocolError } from '../errors/protocol-error.ts';
import { parseAudioTag } from '../flv/audio.ts';
import type { AudioTagInfo } from '../flv/audio.ts';
import { parseVideoTag, VideoFrameType } from '../flv/video.ts';
import type { VideoTagInfo } from '../flv/video.ts';
import { adtsFrameChunks, parseAudioTrackConfig } from './audio-track.ts';
import {
  PesStreamId,
  Pid,
  PROGRAM_NUMBER,
  SluicePid,
  StreamType,
  TRANSPORT_STREAM_ID,
  TS_PACKET_SIZE,
} from './constants.ts';
import { ContinuityCounters } from './continuity.ts';
import { pesPacketCount, writePcrPacket, writePes, writeSectionPacket } from './packetizer.ts';
import type { PesPacketization } from './packetizer.ts';
import { buildPat, buildPmt } from './psi.ts';
import type { PmtStream } from './psi.ts';
import { msTo90k } from './timestamp.ts';
import { accessUnitChunks, parseVideoTrackConfig } from './video-track.ts';
import type { TsVideoCodec, VideoTrackConfig } from './video-track.ts';

/** One frame as the stream hub holds it: FLV tag bodies (MediaMessage from libs/stream satisfies it). */
export interface TsInputFrame {
  /** 8 audio, 9 video, 18 script data (MediaKind values). */
  readonly kind: 8 | 9 | 18;
  /** 64-bit unwrapped ms timeline (may exceed 2^32). */
  readonly timestampMs: number;
  /** FLV tag body (legacy AVC codec 7 / HEVC codec 12, Enhanced RTMP hvc1/avc1, AAC sound format 10). */
  readonly payload: Buffer;
  readonly isKeyFrame: boolean;
  readonly isSequenceHeader: boolean;
}

/** Memory for a frame's packets owned by the caller (an HLS segment being built). */
export interface PacketSink {
  /** `size` writable bytes, written by the muxer before its next call. */
  alloc(size: number): Buffer;
}

export interface TsMuxerOptions {
  /** Audio-only streams get PAT/PMT at least this often (ms of stream time). Default 1000. */
  psiIntervalMs?: number;
}

/** What the muxer could not carry; it never throws on a frame. */
export interface TsMuxerStats {
  /** Frames (and headers) of codecs this muxer does not put in a TS: MP3, Opus, AV1, VP9, multitrack, ... */
  unsupportedFrames: number;
  /** The last unsupported video codec seen ('av1', 'vp9', a FourCC or legacy 'codec id N'), or null. */
  unsupportedVideoCodec: string | null;
  /** The last unsupported audio codec seen ('mp3', 'opus', a FourCC or 'sound format N'), or null. */
  unsupportedAudioCodec: string | null;
  /** Malformed tags: cut headers, bad NAL unit lengths, bad configuration records, oversized AAC frames. */
  badFrames: number;
  /** Coded frames that arrived before their track's sequence header. */
  framesWithoutConfig: number;
}

const EMPTY = Buffer.alloc(0);
const DEFAULT_PSI_INTERVAL_MS = 1000;
/**
 * Every PES on the PCR PID carries a PCR. When the PCR PID is video and video frames are sparse
 * (a slide show), an audio frame this long after the last PCR adds an adaptation-only PCR packet,
 * which keeps PCRs within 100 ms with any AAC frame duration up to 40 ms. 24-60 fps video never
 * triggers it.
 */
const PCR_GAP_90K = 60 * 90;
/** A DTS this far before the last PCR is a timeline jump, not jitter: the PCR follows it. */
const PCR_BACKWARD_JUMP_90K = 90_000;

/**
 * FLV frames (tag bodies) in, 188-byte MPEG-TS packets out (ISO/IEC 13818-1), one Buffer per
 * call sized exactly for its packets. Sans-I/O and deterministic: the bytes depend only on the
 * frames fed (and on resetContinuity calls), never on time.
 */
export class TsMuxer {
  readonly stats: TsMuxerStats = {
    unsupportedFrames: 0,
    unsupportedVideoCodec: null,
    unsupportedAudioCodec: null,
    badFrames: 0,
    framesWithoutConfig: 0,
  };
  /**
   * Where mux() writes a frame's packets: null, a new Buffer per frame; else memory from this
   * sink, and mux() returns that view of it.
   */
  output: PacketSink | null = null;
  private readonly psiInterval90k: number;
  private readonly cc = new ContinuityCounters();
  private video: VideoTrackConfig | null = null;
  private audio: AudioSpecificConfig | null = null;
  /** The tracks the PMT announces: once announced, a track stays. */
  private announcedVideo: TsVideoCodec | null = null;
  private announcedAudio = false;
  private pmtVersion = 0;
  private pmtSection: Buffer | null = null;
  private readonly patSection = buildPat({
    transportStreamId: TRANSPORT_STREAM_ID,
    version: 0,
    programs: [{ programNumber: PROGRAM_NUMBER, pmtPid: SluicePid.Pmt }],
  });
  /** mux() has written PAT/PMT at least once (so preambles apply). */
  private psiEmitted = false;
  /** The next output starts with PAT/PMT. */
  private psiDue = true;
  private lastPsi90k = 0;
  /** The next PCR PID packet must carry a PCR. */
  private pcrDue = true;
  /** Unwrapped 90 kHz. */
  private lastPcr90k = 0;

  constructor(opts: TsMuxerOptions = {}) {
    this.psiInterval90k = msTo90k(opts.psiIntervalMs ?? DEFAULT_PSI_INTERVAL_MS);
  }

  get hasVideo(): boolean {
    return this.announcedVideo !== null;
  }

  get hasAudio(): boolean {
    return this.announcedAudio;
  }

  get videoCodec(): TsVideoCodec | null {
    return this.announcedVideo;
  }

  /**
   * Feeds one frame in timeline order; returns the 188-byte TS packets it produces (an empty
   * Buffer for sequence headers, script data and unsupported codecs). A video key frame's packets
   * begin with PAT and PMT, then AUD + parameter sets + the IDR.
   */
  mux(frame: TsInputFrame): Buffer {
    if (frame.kind === 9) return this.muxVideo(frame);
    if (frame.kind === 8) return this.muxAudio(frame);
    return EMPTY;
  }

  /**
   * PAT + PMT for the current tracks with the continuity counters last used on their PIDs (not
   * advanced), so the next in-stream PAT/PMT continues them. Empty until mux() has written PSI
   * once (a viewer that joins before any frame gets PAT/PMT with the first one).
   */
  psiPreamble(): Buffer {
    if (!this.psiEmitted) return EMPTY;
    const out = Buffer.allocUnsafe(2 * TS_PACKET_SIZE);
    writeSectionPacket(out, 0, Pid.Pat, this.patSection, this.cc.last(Pid.Pat));
    writeSectionPacket(out, TS_PACKET_SIZE, SluicePid.Pmt, this.pmt(), this.cc.last(SluicePid.Pmt));
    return out;
  }

  /**
   * Continuity counters of every PID restart at 0 (each HLS segment starts with this); the next
   * output also starts with PAT/PMT and a PCR.
   */
  resetContinuity(): void {
    this.cc.reset();
    this.psiDue = true;
    this.pcrDue = true;
  }

  private muxVideo(frame: TsInputFrame): Buffer {
    let tag: VideoTagInfo;
    try {
      tag = parseVideoTag(frame.payload);
    } catch (e) {
      return this.bad(e);
    }
    if (tag.frameType === VideoFrameType.Command) return EMPTY;
    const codec = tag.codec === 'avc' ? 'h264' : tag.codec === 'hevc' ? 'h265' : null;
    if (codec === null || tag.packetType === 'multitrack') {
      this.stats.unsupportedFrames++;
      this.stats.unsupportedVideoCodec =
        tag.packetType === 'multitrack'
          ? 'multitrack'
          : (tag.fourCC ?? (tag.codec === 'other' ? `codec id ${tag.codecId}` : tag.codec));
      return EMPTY;
    }
    if (tag.isSequenceHeader) {
      try {
        this.video = parseVideoTrackConfig(codec, tag.data);
      } catch (e) {
        this.video = null;
        return this.bad(e);
      }
      if (this.announcedVideo !== codec) {
        this.announcedVideo = codec;
        this.tracksChanged();
      }
      return EMPTY;
    }
    if (tag.packetType !== 'codedFrames' || tag.data.length === 0) return EMPTY;
    const config = this.video;
    if (config === null || config.codec !== codec) {
      this.stats.framesWithoutConfig++;
      return EMPTY;
    }
    let au;
    try {
      au = accessUnitChunks(config, tag.data, frame.isKeyFrame);
    } catch (e) {
      return this.bad(e);
    }
    const dts90k = msTo90k(frame.timestampMs);
    return this.emit(
      {
        pid: SluicePid.Video,
        streamId: PesStreamId.Video,
        pts90k: msTo90k(frame.timestampMs + tag.compositionTimeMs),
        dts90k,
        payload: au.chunks,
        payloadLength: au.length,
        bounded: false,
        pcr90k: null,
        randomAccess: frame.isKeyFrame,
      },
      frame.isKeyFrame,
    );
  }

  private muxAudio(frame: TsInputFrame): Buffer {
    let tag: AudioTagInfo;
    try {
      tag = parseAudioTag(frame.payload);
    } catch (e) {
      return this.bad(e);
    }
    if (tag.codec !== 'aac' || !isPlainAacPacket(frame.payload, tag)) {
      this.stats.unsupportedFrames++;
      this.stats.unsupportedAudioCodec =
        tag.codec !== 'other' ? tag.codec : (tag.fourCC ?? `sound format ${tag.soundFormat}`);
      return EMPTY;
    }
    if (tag.isSequenceHeader) {
      try {
        this.audio = parseAudioTrackConfig(tag.data);
      } catch (e) {
        this.audio = null;
        return this.bad(e);
      }
      if (!this.announcedAudio) {
        this.announcedAudio = true;
        this.tracksChanged();
      }
      return EMPTY;
    }
    if (tag.data.length === 0) return EMPTY;
    if (this.audio === null) {
      this.stats.framesWithoutConfig++;
      return EMPTY;
    }
    const adts = adtsFrameChunks(this.audio, tag.data);
    if (adts === null) {
      this.stats.badFrames++;
      return EMPTY;
    }
    const ts90k = msTo90k(frame.timestampMs);
    return this.emit(
      {
        pid: SluicePid.Audio,
        streamId: PesStreamId.Audio,
        pts90k: ts90k,
        dts90k: null,
        payload: adts.chunks,
        payloadLength: adts.length,
        bounded: true,
        pcr90k: null,
        // Without video every AAC frame is where a viewer may start.
        randomAccess: this.announcedVideo === null,
      },
      false,
    );
  }

  /** One PES with what must precede it: PAT/PMT, a PCR-only packet. `pes.dts90k` null means PTS. */
  private emit(pes: PesPacketization, videoKeyFrame: boolean): Buffer {
    const dts90k = pes.dts90k ?? pes.pts90k;
    const withPsi =
      this.psiDue ||
      videoKeyFrame ||
      (this.announcedVideo === null &&
        (dts90k - this.lastPsi90k >= this.psiInterval90k || dts90k < this.lastPsi90k));
    const pcrPid = this.announcedVideo !== null ? SluicePid.Video : SluicePid.Audio;
    let pcrOnly: number | null = null;
    if (pes.pid === pcrPid) pes.pcr90k = this.nextPcr(dts90k);
    else if (this.pcrDue || dts90k - this.lastPcr90k >= PCR_GAP_90K) pcrOnly = this.nextPcr(dts90k);

    const packets = (withPsi ? 2 : 0) + (pcrOnly !== null ? 1 : 0) + pesPacketCount(pes);
    const size = packets * TS_PACKET_SIZE;
    const out = this.output !== null ? this.output.alloc(size) : Buffer.allocUnsafe(size);
    let at = 0;
    if (withPsi) {
      at = writeSectionPacket(out, at, Pid.Pat, this.patSection, this.cc.take(Pid.Pat));
      at = writeSectionPacket(out, at, SluicePid.Pmt, this.pmt(), this.cc.take(SluicePid.Pmt));
      this.psiEmitted = true;
      this.psiDue = false;
      this.lastPsi90k = dts90k;
    }
    if (pcrOnly !== null) at = writePcrPacket(out, at, pcrPid, pcrOnly, this.cc);
    writePes(out, at, pes, this.cc);
    return out;
  }

  /** PCR base from a DTS: never backwards for jitter, but following a real timeline jump. */
  private nextPcr(dts90k: number): number {
    const back = this.lastPcr90k - dts90k;
    const pcr = this.pcrDue || back <= 0 || back > PCR_BACKWARD_JUMP_90K ? dts90k : this.lastPcr90k;
    this.lastPcr90k = pcr;
    this.pcrDue = false;
    return pcr;
  }

  private pmt(): Buffer {
    if (this.pmtSection === null) {
      const streams: PmtStream[] = [];
      if (this.announcedVideo !== null) {
        const streamType = this.announcedVideo === 'h264' ? StreamType.H264 : StreamType.H265;
        streams.push({ streamType, pid: SluicePid.Video, descriptors: EMPTY });
      }
      if (this.announcedAudio)
        streams.push({ streamType: StreamType.Aac, pid: SluicePid.Audio, descriptors: EMPTY });
      this.pmtSection = buildPmt({
        programNumber: PROGRAM_NUMBER,
        version: this.pmtVersion,
        pcrPid: this.announcedVideo !== null ? SluicePid.Video : SluicePid.Audio,
        streams,
      });
    }
    return this.pmtSection;
  }

  /**
   * A track appeared or the video codec changed: the PMT gets a new version_number. It is derived
   * from the announced tracks, not counted, so muxers that learned the same tracks in another
   * order (an HLS edge that joined late) write the same PMT bytes; it still changes whenever
   * the PMT's content does.
   */
  private tracksChanged(): void {
    const video = this.announcedVideo === 'h264' ? 1 : this.announcedVideo === 'h265' ? 2 : 0;
    this.pmtVersion = video + (this.announcedAudio ? 3 : 0);
    this.pmtSection = null;
    this.psiDue = true;
  }

  private bad(e: unknown): Buffer {
    if (!(e instanceof ProtocolError)) throw e;
    this.stats.badFrames++;
    return EMPTY;
  }
}

/**
 * Legacy AAC, or Enhanced RTMP 'mp4a' SequenceStart / CodedFrames (packet types 0 and 1, the low
 * nibble of the first byte). Other enhanced packet types (multichannel config, multitrack, ModEx)
 * are not carried.
 */
function isPlainAacPacket(body: Buffer, tag: AudioTagInfo): boolean {
  if (!tag.enhanced) return true;
  const packetType = body[0]! & 0x0f;
  return packetType === 0 || packetType === 1;
}
