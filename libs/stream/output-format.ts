import type { MediaMessage } from './media.ts';

/**
 * A wire format that viewers consume (RTMP chunks for a message stream id, FLV tags, MPEG-TS
 * packets, ...). `serialize` runs at most once per message per format: the result is memoized on
 * the message and the same Buffer is written to every viewer of that format.
 *
 * A stateful format (MPEG-TS: continuity counters, the codec configuration from sequence
 * headers) has one state per stream, made by `newState` when the stream first needs the format.
 * The stream serializes messages for it in timeline order: live messages as they arrive, and a
 * joining viewer's start burst (headers, then the cached GOP) before any later message.
 */
export interface OutputFormat {
  readonly name: string;
  readonly slot: number;
  serialize(msg: MediaMessage, state: unknown): Buffer;
  newState?(): unknown;
  /**
   * Bytes a viewer gets before the start burst (PAT/PMT for TS), from the stream's state.
   * `burstAtKeyFrame`: the burst starts with a cached key frame (whose own bytes may make a
   * preamble redundant).
   */
  preamble?(state: unknown, burstAtKeyFrame: boolean): Buffer | null;
}

let nextSlot = 0;

/** Registers a stateless format and gives it a slot in MediaMessage.wire. Call once per format at startup. */
export function defineOutputFormat(name: string, serialize: (msg: MediaMessage) => Buffer): OutputFormat {
  return { name, slot: nextSlot++, serialize };
}

/** Registers a format whose bytes depend on the stream's earlier messages (see OutputFormat). */
export function defineStatefulFormat<S>(
  name: string,
  spec: {
    newState: () => S;
    serialize: (msg: MediaMessage, state: S) => Buffer;
    preamble?: (state: S, burstAtKeyFrame: boolean) => Buffer | null;
  },
): OutputFormat {
  const preamble = spec.preamble;
  return {
    name,
    slot: nextSlot++,
    newState: spec.newState,
    serialize: (msg, state) => spec.serialize(msg, state as S),
    ...(preamble ? { preamble: (state: unknown, atKey: boolean) => preamble(state as S, atKey) } : {}),
  };
}

/** Per-stream states of the stateful formats, by slot. */
export type FormatStates = unknown[];

/** The state of `format` for one stream, created on first use (undefined for stateless formats). */
export function formatState(format: OutputFormat, states: FormatStates): unknown {
  if (!format.newState) return undefined;
  let s = states[format.slot];
  if (s === undefined) {
    s = format.newState();
    states[format.slot] = s;
  }
  return s;
}

/** The serialized bytes of `msg` in `format`, computed once. */
export function wireBytes(msg: MediaMessage, format: OutputFormat, states: FormatStates): Buffer {
  let b = msg.wire[format.slot];
  if (b === undefined) {
    b = format.serialize(msg, formatState(format, states));
    // A format may hand back another format's bytes (a relay's frame without a mark): held once.
    if (!msg.wire.includes(b)) msg.heldBytes += b.length;
    msg.wire[format.slot] = b;
  }
  return b;
}
