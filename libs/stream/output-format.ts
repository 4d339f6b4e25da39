import type { MediaMessage } from './media.ts';

/**
 * A wire format that viewers consume (RTMP chunks for a message stream id, FLV tags, ...).
 * `serialize` runs at most once per message per format: the result is memoized on the
 * message and the same Buffer is written to every viewer of that format.
 */
export interface OutputFormat {
  readonly name: string;
  readonly slot: number;
  serialize(msg: MediaMessage): Buffer;
}

let nextSlot = 0;

/** Registers a format and gives it a slot in MediaMessage.wire. Call once per format at startup. */
export function defineOutputFormat(name: string, serialize: (msg: MediaMessage) => Buffer): OutputFormat {
  return { name, slot: nextSlot++, serialize };
}

/** The serialized bytes of `msg` in `format`, computed once. */
export function wireBytes(msg: MediaMessage, format: OutputFormat): Buffer {
  let b = msg.wire[format.slot];
  if (b === undefined) {
    b = format.serialize(msg);
    msg.wire[format.slot] = b;
    msg.heldBytes += b.length;
  }
  return b;
}
