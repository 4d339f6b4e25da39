import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  h264NalType,
  h265NalType,
  nalusToLengthPrefixed,
  parseAdtsFrames,
  splitAnnexB,
  splitLengthPrefixed,
} from '../../../../libs/codec/index.ts';
import { parseAudioTag, parseVideoTag } from '../../../../libs/flv/index.ts';
import { forEachInterleaved } from '../../../../libs/rtp/index.ts';
import { buildSdp, parseSdp, trackCodec, type TrackCodec } from '../../../../libs/rtsp/index.ts';
import {
  createMediaMessage,
  MediaKind,
  type IncomingFrame,
  type MediaMessage,
} from '../../../../libs/stream/index.ts';
import { sdpTracks } from '../../../../services/node/rtsp/describe.ts';
import { audioItem, videoItem } from '../../../../services/node/rtsp/flv-units.ts';
import { rtpFormat, type RtpStreamState } from '../../../../services/node/rtsp/rtp-format.ts';
import { aacAudio, enhancedVideo, legacyVideo } from '../../mpegts/helpers.ts';

// Streams of FLV-shaped messages built from the ffmpeg fixtures in test/fixtures/codec (one real
// key frame per file, see its README), the RTP records rtpFormat makes of them, and what an
// RtspRecorder should give back.

const FIXTURES = new URL('../../../fixtures/codec/', import.meta.url);
export const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));

export type VideoCodec = 'h264' | 'h265';

export const nalType = (codec: VideoCodec, n: Buffer): number =>
  codec === 'h264' ? h264NalType(n) : h265NalType(n);
const AUD = { h264: Buffer.from([0x09, 0xf0]), h265: Buffer.from([0x46, 0x01, 0x50]) } as const;
const AUD_TYPE = { h264: 9, h265: 35 } as const;
const PARAM_TYPES = { h264: [7, 8], h265: [32, 33, 34] } as const;

/** Deterministic bytes (xorshift32) so failures reproduce. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** A non-key slice NAL unit of `size` bytes (H.264 type 1 / H.265 TRAIL_R) with filler content. */
function slice(codec: VideoCodec, size: number, rnd: () => number, key = false): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = rnd() & 0xff;
  if (codec === 'h264') b[0] = key ? 0x65 : 0x41;
  else {
    b[0] = key ? 19 << 1 : 0x02;
    b[1] = 0x01;
  }
  return b;
}

export interface StreamSpec {
  codec: VideoCodec;
  /** Annex-B file with one key access unit, and the matching decoder configuration record. */
  annexB: string;
  record: string;
  /** AAC ADTS file (null: video only). */
  aac: string | null;
  gops: number;
  gopFrames: number;
  frameMs: number;
  /** Parameter sets in band on every other key frame (the rest rely on the record). */
  inBandEveryOther: boolean;
  /** Slice sizes cycle through these (some above the 1400-byte packet: fragmented). */
  sliceSizes: number[];
  /** A second key slice of this size after the fixture's (0: none), so key frames fragment too. */
  keySliceBytes: number;
}

export interface BuiltStream {
  spec: StreamSpec;
  /** Messages in stream order (sequence headers first, audio and video interleaved by time). */
  messages: MediaMessage[];
  /** The NAL units the record carries. */
  params: { vps: Buffer[]; sps: Buffer[]; pps: Buffer[] };
  asc: Buffer | null;
}

function parameterSets(codec: VideoCodec, nalus: Buffer[]): { vps: Buffer[]; sps: Buffer[]; pps: Buffer[] } {
  const of = (t: number): Buffer[] => nalus.filter((n) => nalType(codec, n) === t);
  return codec === 'h264' ? { vps: [], sps: of(7), pps: of(8) } : { vps: of(32), sps: of(33), pps: of(34) };
}

export function buildStream(spec: StreamSpec, seed = 1): BuiltStream {
  const rnd = prng(seed);
  const { codec } = spec;
  const keyAu = splitAnnexB(fixture(spec.annexB)).filter((n) => nalType(codec, n) !== AUD_TYPE[codec]);
  const params = parameterSets(codec, keyAu);
  const keyNoParams = keyAu.filter(
    (n) => !(PARAM_TYPES[codec] as readonly number[]).includes(nalType(codec, n)),
  );
  const record = fixture(spec.record);
  const video = (key: boolean, packetType: number, data: Buffer): Buffer =>
    codec === 'h264'
      ? legacyVideo(7, key, packetType, 0, data)
      : enhancedVideo('hvc1', key, packetType, data, 0);
  const seqHeader =
    codec === 'h264' ? legacyVideo(7, true, 0, 0, record) : enhancedVideo('hvc1', true, 0, record);
  const timed: { ms: number; order: number; msg: MediaMessage }[] = [];
  let order = 0;
  let sizeAt = 0;
  for (let g = 0; g < spec.gops; g++) {
    for (let f = 0; f < spec.gopFrames; f++) {
      const ms = (g * spec.gopFrames + f) * spec.frameMs;
      const key = f === 0;
      let nalus: Buffer[];
      if (key) {
        nalus = spec.inBandEveryOther && g % 2 === 1 ? keyAu : keyNoParams;
        if (spec.keySliceBytes > 0) nalus = [...nalus, slice(codec, spec.keySliceBytes, rnd, true)];
      } else nalus = [slice(codec, spec.sliceSizes[sizeAt++ % spec.sliceSizes.length]!, rnd)];
      const payload = video(key, 1, nalusToLengthPrefixed([AUD[codec], ...nalus], 4));
      timed.push({
        ms,
        order: order++,
        msg: createMediaMessage(MediaKind.Video, ms, payload, { isKeyFrame: key, isSequenceHeader: false }),
      });
    }
  }
  const messages: MediaMessage[] = [
    createMediaMessage(MediaKind.Video, 0, seqHeader, { isKeyFrame: true, isSequenceHeader: true }),
  ];
  let asc: Buffer | null = null;
  if (spec.aac) {
    asc = fixture(spec.aac.replace(/\.aac$/, '.asc'));
    messages.push(
      createMediaMessage(MediaKind.Audio, 0, aacAudio(true, asc), {
        isKeyFrame: false,
        isSequenceHeader: true,
      }),
    );
    const frames = parseAdtsFrames(fixture(spec.aac)).map((f) => f.payload);
    const rate = audioItem(aacAudio(true, asc));
    if (rate?.type !== 'config') throw new Error('fixture ASC');
    const endMs = spec.gops * spec.gopFrames * spec.frameMs;
    for (let i = 0; ; i++) {
      const ms = Math.round((i * 1024 * 1000) / rate.config.clockRate);
      if (ms >= endMs) break;
      const payload = aacAudio(false, frames[i % frames.length]!);
      timed.push({
        ms,
        order: order++,
        msg: createMediaMessage(MediaKind.Audio, ms, payload, { isKeyFrame: false, isSequenceHeader: false }),
      });
    }
  }
  timed.sort((a, b) => a.ms - b.ms || a.order - b.order);
  messages.push(...timed.map((t) => t.msg));
  return { spec, messages, params, asc };
}

export const H264_AAC: StreamSpec = {
  codec: 'h264',
  annexB: 'h264-high-1920x1080.h264',
  record: 'h264-high-1920x1080.avcc',
  aac: 'aac-stereo-48000.aac',
  gops: 3,
  gopFrames: 6,
  frameMs: 40,
  inBandEveryOther: true,
  sliceSizes: [300, 4000, 1389, 60, 2800],
  keySliceBytes: 3000,
};

export const H265_AAC: StreamSpec = {
  codec: 'h265',
  annexB: 'h265-main-1280x720.hevc',
  record: 'h265-main-1280x720.hvcc',
  aac: 'aac-mono-44100.aac',
  gops: 3,
  gopFrames: 5,
  frameMs: 33,
  inBandEveryOther: true,
  sliceSizes: [5000, 200, 1388, 1500],
  keySliceBytes: 0,
};

/** One serialized record: the stream's channel (0/2 RTP, 1/3 RTCP), the packet, its message. */
export interface Sent {
  channel: number;
  packet: Buffer;
  msgIndex: number;
}

/** Every message through rtpFormat with one state, as the records a same-channel player gets. */
export function serializeAll(messages: readonly MediaMessage[], state = newRtpState()): Sent[] {
  const out: Sent[] = [];
  messages.forEach((msg, msgIndex) => {
    forEachInterleaved(rtpFormat.serialize(msg, state), (channel, packet) =>
      out.push({ channel, packet, msgIndex }),
    );
  });
  return out;
}

export const newRtpState = (): RtpStreamState => rtpFormat.newState!() as RtpStreamState;

/**
 * The tracks a publisher announcing our own DESCRIBE answer would set up: sdpTracks of the
 * stream's sequence headers -> buildSdp -> parseSdp -> trackCodec, with each track's id
 * (the stream's RTP channel is id * 2).
 */
export function announcedTracks(messages: readonly MediaMessage[]): {
  ids: number[];
  codecs: TrackCodec[];
  sdp: string;
} {
  let video = null;
  let audio = null;
  for (const m of messages) {
    if (!m.isSequenceHeader) continue;
    if (m.kind === MediaKind.Video) {
      const v = videoItem(m.payload);
      if (v?.type === 'config') video = v.config;
    } else if (m.kind === MediaKind.Audio) {
      const a = audioItem(m.payload);
      if (a?.type === 'config') audio = a.config;
    }
  }
  const tracks = sdpTracks({ video, audio });
  const sdp = buildSdp({
    sessionName: 'live/test',
    originAddress: '127.0.0.1',
    tracks: tracks.map((t) => t.spec),
  });
  return { ids: tracks.map((t) => t.id), codecs: parseSdp(sdp).media.map(trackCodec), sdp };
}

/** A NAL unit or AAC frame in a few characters: first byte, length, hash. */
export const digest = (b: Buffer): string =>
  `${b[0]?.toString(16) ?? '-'}/${b.length}/${createHash('sha1').update(b).digest('hex').slice(0, 10)}`;

/** A coded frame of the input or the output, reduced to what the round trip keeps. */
export interface Unit {
  kind: 'video' | 'audio';
  ms: number;
  key: boolean;
  /** NAL units without AUDs (video) or the one raw AAC frame (audio), as `type/length/hash` for short diffs. */
  data: string[];
}

/**
 * What a recorder should emit for each coded input frame: its NAL units without AUDs, with the
 * record's parameter sets in front of a key frame that has none in band (rtpFormat puts them
 * there); audio frames as they are.
 */
export function expectedUnits(b: BuiltStream): Unit[] {
  const { codec } = b.spec;
  const out: Unit[] = [];
  for (const m of b.messages) {
    if (m.isSequenceHeader) continue;
    if (m.kind === MediaKind.Audio) {
      out.push({
        kind: 'audio',
        ms: m.timestampMs,
        key: true,
        data: [digest(parseAudioTag(m.payload).data)],
      });
      continue;
    }
    const v = parseVideoTag(m.payload);
    let nalus = splitLengthPrefixed(v.data, 4).filter((n) => nalType(codec, n) !== AUD_TYPE[codec]);
    const hasSps = nalus.some((n) => nalType(codec, n) === (codec === 'h264' ? 7 : 33));
    if (m.isKeyFrame && !hasSps) nalus = [...b.params.vps, ...b.params.sps, ...b.params.pps, ...nalus];
    out.push({
      kind: 'video',
      ms: m.timestampMs + v.compositionTimeMs,
      key: m.isKeyFrame,
      data: nalus.map(digest),
    });
  }
  return out;
}

/** The coded frames a recorder emitted, in the same shape (sequence headers left out). */
export function unitsOf(codec: VideoCodec, frames: readonly IncomingFrame[]): Unit[] {
  const out: Unit[] = [];
  for (const f of frames) {
    if (f.isSequenceHeader) continue;
    if (f.kind === MediaKind.Audio) {
      out.push({
        kind: 'audio',
        ms: f.timestampMs,
        key: true,
        data: [digest(parseAudioTag(f.payload).data)],
      });
      continue;
    }
    const v = parseVideoTag(f.payload);
    out.push({
      kind: 'video',
      ms: f.timestampMs + v.compositionTimeMs,
      key: f.isKeyFrame,
      data: splitLengthPrefixed(v.data, 4).map(digest),
    });
  }
  return out;
}
