import { encodeFlvTag } from '../../libs/flv/index.ts';
import { encodeMessage } from '../../libs/rtmp/chunk-writer.ts';
import { Csid } from '../../libs/rtmp/commands.ts';
import { MessageType } from '../../libs/rtmp/message-types.ts';
import { TsMuxer } from '../../libs/mpegts/muxer.ts';
import {
  defineOutputFormat,
  defineStatefulFormat,
  MediaKind,
  wireBytes,
  type OutputFormat,
} from '../../libs/stream/index.ts';
import { encodeSegmentMark } from './segment-mark-wire.ts';

/** FLV tags (HTTP-FLV and WebSocket-FLV share them). */
export const flvFormat: OutputFormat = defineOutputFormat('flv', (m) =>
  encodeFlvTag(m.kind, m.timestampMs, m.payload),
);

/**
 * MPEG-TS packets (HTTP-TS and WebSocket-TS share them): one muxer per stream, so continuity
 * counters run on across frames for every viewer; a key frame's packets start with PAT/PMT. A
 * viewer that does not start on a cached key frame gets the PAT/PMT with the counters last used
 * first, so the next in-stream PAT/PMT continues them.
 */
export const tsFormat: OutputFormat = defineStatefulFormat('ts', {
  newState: () => new TsMuxer(),
  serialize: (m, mux) => mux.mux(m),
  // A burst from the GOP cache starts with a key frame, which carries PAT/PMT itself.
  preamble: (mux, burstAtKeyFrame) => (burstAtKeyFrame ? null : mux.psiPreamble()),
});

const rtmpFormats = new Map<string, OutputFormat>();
const relayFormats = new Map<string, OutputFormat>();

const csidOf = (kind: number): number =>
  kind === MediaKind.Audio ? Csid.Audio : kind === MediaKind.Video ? Csid.Video : Csid.Data;

/**
 * RTMP chunks for one (message stream id, chunk size). Every message is written with a
 * type-0 header, so the bytes do not depend on what a connection sent before and can be
 * shared by all players; in practice all players use stream id 1 and our chunk size.
 */
export function rtmpFormat(streamId: number, chunkSize: number): OutputFormat {
  const name = `rtmp:${streamId}:${chunkSize}`;
  let f = rtmpFormats.get(name);
  if (!f) {
    f = defineOutputFormat(name, (m) =>
      encodeMessage(
        {
          csid: csidOf(m.kind),
          typeId: m.kind,
          streamId,
          timestamp: m.timestampMs % 0x1_0000_0000,
          payload: m.payload,
        },
        chunkSize,
      ),
    );
    rtmpFormats.set(name, f);
  }
  return f;
}

/**
 * RTMP chunks for an edge's relay pull: the player bytes, with the owner's segment mark (an AMF0
 * data message) just before each frame that starts an HLS segment, so every edge cuts the same
 * frames with the same numbers. Players never see marks: they use rtmpFormat.
 */
export function rtmpRelayFormat(streamId: number, chunkSize: number): OutputFormat {
  const name = `relay:${streamId}:${chunkSize}`;
  let f = relayFormats.get(name);
  if (!f) {
    const plain = rtmpFormat(streamId, chunkSize);
    f = defineOutputFormat(name, (m) => {
      const media = wireBytes(m, plain, NO_STATES);
      if (!m.segment) return media;
      const mark = encodeMessage(
        {
          csid: Csid.Data,
          typeId: MessageType.DataAmf0,
          streamId,
          timestamp: m.timestampMs % 0x1_0000_0000,
          payload: encodeSegmentMark(m.segment),
        },
        chunkSize,
      );
      return Buffer.concat([mark, media]);
    });
    relayFormats.set(name, f);
  }
  return f;
}

/** rtmpFormat is stateless: it needs no per-stream states. */
const NO_STATES: unknown[] = [];
