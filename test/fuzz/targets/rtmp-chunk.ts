import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { ChunkReader } from '../../../libs/rtmp/chunk-reader.ts';
import type { ChunkReaderLimits } from '../../../libs/rtmp/chunk-reader.ts';
import type { RtmpMessage } from '../../../libs/rtmp/message-types.ts';
import { invariant, pieces, splitPoints } from '../engine/target.ts';
import type { FuzzTarget } from '../engine/target.ts';
import { rtmpChunkMutator } from '../structure/rtmp-chunks.ts';

/** Small limits reach every limit check with small inputs. */
const SMALL: ChunkReaderLimits = {
  maxChunkSize: 64 * 1024,
  maxMessageSize: 16 * 1024,
  maxChunkStreams: 8,
  maxBufferedBytes: 32 * 1024,
};
const DEFAULT: ChunkReaderLimits = {
  maxChunkSize: 16 * 1024 * 1024,
  maxMessageSize: 8 * 1024 * 1024,
  maxChunkStreams: 64,
  maxBufferedBytes: 16 * 1024 * 1024,
};
/** Stashed header bytes count towards bufferedBytes too (3 + 11 + 4). */
const MAX_HEADER = 18;

interface Fed {
  messages: RtmpMessage[];
  error: ProtocolError | null;
}

function feed(parts: readonly Buffer[], limits: ChunkReaderLimits): Fed {
  const reader = new ChunkReader(limits);
  const messages: RtmpMessage[] = [];
  for (const p of parts) {
    try {
      for (const m of reader.push(p)) {
        invariant(m.payload.length <= limits.maxMessageSize, `message of ${m.payload.length} bytes`);
        invariant(m.csid >= 2 && m.csid <= 65599, `csid ${m.csid}`);
        messages.push(m);
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      // Dead after a throw: the next push rethrows the same error.
      let again: unknown;
      try {
        reader.push(Buffer.alloc(1));
      } catch (e2) {
        again = e2;
      }
      invariant(again === e, 'a push after an error did not rethrow it');
      return { messages, error: e };
    }
    invariant(
      reader.bufferedBytes <= limits.maxBufferedBytes + MAX_HEADER,
      `bufferedBytes ${reader.bufferedBytes} over the limit ${limits.maxBufferedBytes}`,
    );
  }
  return { messages, error: null };
}

const same = (a: RtmpMessage, b: RtmpMessage): boolean =>
  a.csid === b.csid &&
  a.typeId === b.typeId &&
  a.streamId === b.streamId &&
  a.timestamp === b.timestamp &&
  a.payload.equals(b.payload);

/**
 * The chunk reader fed in one piece and in pieces cut where the input says: same messages
 * (or the same error), payloads within the limit, bufferedBytes within maxBufferedBytes.
 */
function chunkTarget(name: string, limits: ChunkReaderLimits, what: string): FuzzTarget {
  return {
    name,
    description: `ChunkReader (${what}): client->server and server->client chunk streams from captures`,
    corpus: ['rtmp-chunk'],
    mutators: [rtmpChunkMutator, rtmpChunkMutator],
    run(input) {
      const whole = feed([input], limits);
      const split = feed(pieces(input, splitPoints(input, 6)), limits);
      invariant(
        (whole.error === null) === (split.error === null) && whole.error?.code === split.error?.code,
        () => `split changed the outcome: ${whole.error?.code ?? 'ok'} vs ${split.error?.code ?? 'ok'}`,
      );
      if (whole.error === null) {
        invariant(
          whole.messages.length === split.messages.length &&
            whole.messages.every((m, i) => same(m, split.messages[i]!)),
          'split changed the messages',
        );
      }
      if (whole.error) throw whole.error;
    },
  };
}

export const targets: FuzzTarget[] = [
  chunkTarget('rtmp-chunk', SMALL, 'small limits'),
  chunkTarget('rtmp-chunk-default', DEFAULT, 'default limits'),
];
