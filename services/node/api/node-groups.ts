import type { Stream } from '../../../libs/stream/index.ts';
import { isPullProtocol } from '../relay/source.ts';
import {
  emptyLalSession,
  lalCodec,
  lalProtocol,
  lalTime,
  splitKey,
  type LalGroup,
  type LalSession,
} from './lal-shape.ts';
import type { SessionStat, SessionTable } from './sessions.ts';

/** One session in lal's StatSession shape. */
export function lalSessionOf(s: SessionStat, baseType: string): LalSession {
  return {
    session_id: s.info.sessionId,
    protocol: lalProtocol(s.info.protocol),
    base_type: baseType,
    remote_addr: s.info.remote,
    start_time: lalTime(s.startedAt),
    read_bytes_sum: s.bytesIn,
    wrote_bytes_sum: s.bytesOut,
    bitrate_kbits: s.readKbps + s.writeKbps,
    read_bitrate_kbits: s.readKbps,
    write_bitrate_kbits: s.writeKbps,
  };
}

/** lal's base_type of a Sluice session. */
export const baseTypeOf = (s: SessionStat): string =>
  s.info.kind === 'publisher' ? (isPullProtocol(s.info.protocol) ? 'PULL' : 'PUB') : 'SUB';

/** A hub stream as a lal group (StatGroup): media, publisher or pull, viewers. */
export function lalGroupOf(stream: Stream, table: SessionTable, sessions: SessionStat[]): LalGroup {
  const { app, name } = splitKey(stream.key);
  const media = table.mediaOf(stream);
  const mine = sessions.filter((s) => s.info.key === stream.key);
  let pub = emptyLalSession('PUB');
  let pull = emptyLalSession('PULL');
  const subs: LalSession[] = [];
  for (const s of mine) {
    const bt = baseTypeOf(s);
    if (bt === 'PUB') pub = lalSessionOf(s, bt);
    else if (bt === 'PULL') pull = lalSessionOf(s, bt);
    else subs.push(lalSessionOf(s, bt));
  }
  // An edge's relay from its origin feeds the stream without being a session of its own.
  const handle = stream.publisherHandle;
  if (
    handle &&
    pub.session_id === '' &&
    pull.session_id === '' &&
    !mine.some((s) => s.info.sessionId === handle.id)
  ) {
    pull = {
      ...emptyLalSession('PULL'),
      session_id: handle.id,
      protocol: 'RTMP',
      start_time: lalTime(handle.since),
      read_bytes_sum: stream.bytesIn,
    };
  }
  return {
    stream_name: name,
    app_name: app,
    audio_codec: lalCodec(media.audioCodec),
    video_codec: lalCodec(media.videoCodec),
    video_width: media.width ?? 0,
    video_height: media.height ?? 0,
    pub,
    subs,
    pull,
    in_frame_per_sec: table.framesPerSec(stream.key),
  };
}

export { lalCodec };
