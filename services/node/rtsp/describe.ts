import { isProtocolError } from '../../../libs/errors/protocol-error.ts';
import type { SdpTrackSpec } from '../../../libs/rtsp/index.ts';
import type { Stream } from '../../../libs/stream/index.ts';
import { audioItem, videoItem, type AudioConfig, type VideoConfig } from './flv-units.ts';
import { AUDIO_PAYLOAD_TYPE, TrackId, VIDEO_PAYLOAD_TYPE } from './rtp-format.ts';

/** The tracks an RTSP player is offered, from the stream's sequence headers. */
export interface DescribedTracks {
  video: VideoConfig | null;
  audio: AudioConfig | null;
}

/** Once one track's header is there, the other gets this long to show up before DESCRIBE answers. */
const SECOND_TRACK_WAIT_MS = 1_000;
const POLL_MS = 50;

/** What RTP can carry of the stream now (H.264/H.265 video, AAC audio). */
export function describeNow(stream: Stream): DescribedTracks {
  const { video, audio } = stream.codecHeaders;
  return {
    video: video ? videoConfigOf(video.payload) : null,
    audio: audio ? audioConfigOf(audio.payload) : null,
  };
}

function videoConfigOf(payload: Buffer): VideoConfig | null {
  try {
    const v = videoItem(payload);
    return v?.type === 'config' ? v.config : null;
  } catch (e) {
    if (isProtocolError(e)) return null;
    throw e;
  }
}

function audioConfigOf(payload: Buffer): AudioConfig | null {
  try {
    const a = audioItem(payload);
    return a?.type === 'config' ? a.config : null;
  } catch (e) {
    if (isProtocolError(e)) return null;
    throw e;
  }
}

/**
 * Waits until the stream can be described: both tracks known, or one known and the other not
 * shown up within a second. Null when `deadlineMs` (performance.now) passes or `gone()` first.
 */
export async function waitDescribable(
  stream: Stream,
  deadlineMs: number,
  gone: () => boolean,
): Promise<DescribedTracks | null> {
  let firstSeenAt: number | null = null;
  for (;;) {
    if (gone()) return null;
    if (stream.hasPublisher) {
      const t = describeNow(stream);
      if (t.video && t.audio) return t;
      if (t.video || t.audio) {
        firstSeenAt ??= performance.now();
        if (performance.now() - firstSeenAt >= SECOND_TRACK_WAIT_MS) return t;
      }
    }
    if (performance.now() >= deadlineMs) return null;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** SDP track specs: video as trackID=0, audio as trackID=1 (the ids rtpFormat's channels use). */
export function sdpTracks(t: DescribedTracks): { id: TrackId; spec: SdpTrackSpec }[] {
  const out: { id: TrackId; spec: SdpTrackSpec }[] = [];
  const v = t.video;
  if (v) {
    const codec =
      v.codec === 'h264'
        ? {
            codec: 'h264' as const,
            payloadType: VIDEO_PAYLOAD_TYPE,
            clockRate: 90_000,
            packetizationMode: 1,
            ...(v.sps[0] ? { sps: v.sps[0] } : {}),
            ...(v.pps[0] ? { pps: v.pps[0] } : {}),
          }
        : {
            codec: 'h265' as const,
            payloadType: VIDEO_PAYLOAD_TYPE,
            clockRate: 90_000,
            ...(v.vps[0] ? { vps: v.vps[0] } : {}),
            ...(v.sps[0] ? { sps: v.sps[0] } : {}),
            ...(v.pps[0] ? { pps: v.pps[0] } : {}),
          };
    out.push({ id: TrackId.Video, spec: { control: `trackID=${TrackId.Video}`, codec } });
  }
  const a = t.audio;
  if (a) {
    out.push({
      id: TrackId.Audio,
      spec: {
        control: `trackID=${TrackId.Audio}`,
        codec: {
          codec: 'aac',
          payloadType: AUDIO_PAYLOAD_TYPE,
          clockRate: a.clockRate,
          channels: a.channels,
          config: a.record,
          sizeLength: 13,
          indexLength: 3,
          indexDeltaLength: 3,
        },
      },
    });
  }
  return out;
}
