import { randomBytes } from 'node:crypto';
import { isProtocolError } from '../../../libs/errors/protocol-error.ts';
import {
  buildSenderReport,
  interleavedHeader,
  msToRtp,
  packetizeAac,
  packetizeH264,
  packetizeH265,
  RTP_HEADER_BYTES,
  RtpTrackOutput,
} from '../../../libs/rtp/index.ts';
import {
  defineStatefulFormat,
  MediaKind,
  type MediaMessage,
  type OutputFormat,
} from '../../../libs/stream/index.ts';
import { audioItem, frameNalus, hasSps, videoItem, type AudioConfig, type VideoConfig } from './flv-units.ts';

/**
 * RTP for RTSP players, serialized once per stream and track: one SSRC and sequence space per
 * track, shared by every player of the stream. A message becomes its RTP packets, each already
 * framed as an RTSP interleaved record on the stream's own channels (video 0, audio 2, RTCP on
 * the odd one after), so a TCP player whose channels match writes the Buffer as it is; other
 * players rewrite only the 4-byte record headers (TCP) or send the packets as datagrams (UDP).
 */

export const TrackId = { Video: 0, Audio: 1 } as const;
export type TrackId = (typeof TrackId)[keyof typeof TrackId];

/** Interleaved channel of a track's RTP on the stream's own numbering; RTCP is the next one. */
export const rtpChannelOf = (track: TrackId): number => track * 2;

/** Whole RTP packets stay under a common path MTU (1500) with IP/UDP headers and margin. */
export const MAX_RTP_PACKET_BYTES = 1400;
const MAX_PAYLOAD = MAX_RTP_PACKET_BYTES - RTP_HEADER_BYTES;
export const VIDEO_PAYLOAD_TYPE = 96;
export const AUDIO_PAYLOAD_TYPE = 97;
const VIDEO_CLOCK = 90_000;
/** Audio-only streams: a sender report this often (stream time); with video, one per key frame. */
const AUDIO_SR_INTERVAL_MS = 2_000;
const CNAME = 'sluice';

interface TrackState {
  out: RtpTrackOutput | null;
  /** Random RTP timestamp offset (RFC 3550 §5.1). */
  offset: number;
  ssrc: number;
  lastSrMs: number;
}

export interface RtpStreamState {
  video: TrackState & { config: VideoConfig | null };
  audio: TrackState & { config: AudioConfig | null };
  /** Malformed frames skipped (a publisher's bad header must not stop the players). */
  skipped: number;
}

const EMPTY = Buffer.alloc(0);

function newTrack(): TrackState {
  const r = randomBytes(10);
  return { out: null, offset: r.readUInt32BE(0), ssrc: r.readUInt32BE(4), lastSrMs: -Infinity };
}

/** The RTP timestamp of stream time `ms` on a track (what RTP-Info and SDP-less clients use). */
export function rtpTimeOf(track: TrackState, clockRate: number, ms: number): number {
  return msToRtp(ms, clockRate, track.offset);
}

function output(track: TrackState, trackId: TrackId, payloadType: number, clockRate: number): RtpTrackOutput {
  if (!track.out || track.out.clockRate !== clockRate) {
    track.out = new RtpTrackOutput({
      payloadType,
      clockRate,
      ssrc: track.ssrc,
      initialSequence: track.out ? track.out.nextSequence : randomBytes(2).readUInt16BE(0),
      channel: rtpChannelOf(trackId),
    });
  }
  return track.out;
}

/**
 * A sender report for a track at stream time `ms` (RFC 3550 §6.4.1). The NTP time is the stream
 * time on a fixed wall-clock origin, the same for every track, so players line audio and video up.
 */
function senderReport(track: TrackState, trackId: TrackId, ms: number): Buffer | null {
  const out = track.out;
  if (!out) return null;
  const sr = buildSenderReport({
    ssrc: out.ssrc,
    ntpTimeMs: NTP_ORIGIN_MS + ms,
    rtpTimestamp: msToRtp(ms, out.clockRate, track.offset),
    packetCount: out.packetCount,
    octetCount: out.octetCount,
    cname: CNAME,
  });
  track.lastSrMs = ms;
  return Buffer.concat([interleavedHeader(rtpChannelOf(trackId) + 1, sr.length), sr]);
}

/** Wall-clock origin of every stream's NTP times: the process start. */
const NTP_ORIGIN_MS = Date.now();

function serializeVideo(msg: MediaMessage, st: RtpStreamState): Buffer {
  const item = videoItem(msg.payload);
  if (!item) return EMPTY;
  if (item.type === 'config') {
    st.video.config = item.config;
    return EMPTY;
  }
  const config = st.video.config;
  if (!config || config.codec !== item.codec) return EMPTY;
  let nalus = frameNalus(config, item.data);
  if (nalus.length === 0) return EMPTY;
  // Parameter sets in band before every key frame: a player that joined without them (or missed
  // the SDP's) can start there.
  if (msg.isKeyFrame && !hasSps(config.codec, nalus))
    nalus = [...config.vps, ...config.sps, ...config.pps, ...nalus];
  const payloads =
    config.codec === 'h264' ? packetizeH264(nalus, MAX_PAYLOAD) : packetizeH265(nalus, MAX_PAYLOAD);
  const out = output(st.video, TrackId.Video, VIDEO_PAYLOAD_TYPE, VIDEO_CLOCK);
  const rtp = out.write(
    payloads,
    msToRtp(msg.timestampMs + item.compositionMs, VIDEO_CLOCK, st.video.offset),
  );
  if (!msg.isKeyFrame) return rtp;
  // Sender reports for both tracks before every key frame, where every player's burst starts: a
  // player that gets its first report of a track only after that track's packets re-times them
  // (ffmpeg jumps), so the audio track's output exists as soon as its configuration does.
  const audioConfig = st.audio.config;
  if (audioConfig) output(st.audio, TrackId.Audio, AUDIO_PAYLOAD_TYPE, audioConfig.clockRate);
  const parts = [
    senderReport(st.video, TrackId.Video, msg.timestampMs),
    senderReport(st.audio, TrackId.Audio, msg.timestampMs),
    rtp,
  ];
  return Buffer.concat(parts.filter((p): p is Buffer => p !== null));
}

function serializeAudio(msg: MediaMessage, st: RtpStreamState): Buffer {
  const item = audioItem(msg.payload);
  if (!item) return EMPTY;
  if (item.type === 'config') {
    st.audio.config = item.config;
    return EMPTY;
  }
  const config = st.audio.config;
  if (!config) return EMPTY;
  const out = output(st.audio, TrackId.Audio, AUDIO_PAYLOAD_TYPE, config.clockRate);
  const rtp = out.write(
    packetizeAac([item.data], MAX_PAYLOAD),
    msToRtp(msg.timestampMs, config.clockRate, st.audio.offset),
  );
  if (st.video.config || msg.timestampMs - st.audio.lastSrMs < AUDIO_SR_INTERVAL_MS) return rtp;
  const sr = senderReport(st.audio, TrackId.Audio, msg.timestampMs);
  return sr ? Buffer.concat([sr, rtp]) : rtp;
}

export const rtpFormat: OutputFormat = defineStatefulFormat<RtpStreamState>('rtp', {
  newState: () => ({
    video: { ...newTrack(), config: null },
    audio: { ...newTrack(), config: null },
    skipped: 0,
  }),
  serialize: (msg, st) => {
    try {
      if (msg.kind === MediaKind.Video) return serializeVideo(msg, st);
      if (msg.kind === MediaKind.Audio) return serializeAudio(msg, st);
      return EMPTY;
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      st.skipped++;
      return EMPTY;
    }
  },
});
