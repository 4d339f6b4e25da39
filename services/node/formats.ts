import { encodeFlvTag } from '../../libs/flv/index.ts';
import { encodeMessage } from '../../libs/rtmp/chunk-writer.ts';
import { Csid } from '../../libs/rtmp/commands.ts';
import { defineOutputFormat, MediaKind, type OutputFormat } from '../../libs/stream/index.ts';

/** FLV tags (HTTP-FLV and WebSocket-FLV share them). */
export const flvFormat: OutputFormat = defineOutputFormat('flv', (m) =>
  encodeFlvTag(m.kind, m.timestampMs, m.payload),
);

const rtmpFormats = new Map<string, OutputFormat>();

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
          csid: m.kind === MediaKind.Audio ? Csid.Audio : m.kind === MediaKind.Video ? Csid.Video : Csid.Data,
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
