import { ProtocolError } from '../errors/protocol-error.ts';
import { HANDSHAKE_PACKET_SIZE, RTMP_VERSION } from './handshake-digest.ts';

/** One result of feeding handshake bytes in. */
export interface HandshakeStep {
  /** Bytes to write to the peer, in order. */
  send: Buffer[];
  /** True once the handshake is complete. */
  done: boolean;
  /** Bytes received after the handshake's last packet: the start of the chunk stream. */
  rest: Buffer;
}

export const EMPTY = Buffer.alloc(0);

/**
 * Gathers a fixed-size handshake packet from however TCP splits it. Holds at most one
 * packet's worth of bytes (the caller picks `size`), so a peer cannot grow it.
 */
export class PacketCollector {
  private parts: Buffer[] = [];
  private held = 0;

  /** Bytes held towards the current packet. */
  get length(): number {
    return this.held;
  }

  /**
   * Takes bytes from `data` until `size` are held. Returns the packet once complete and
   * the unconsumed tail of `data`. A packet inside one `data` is a zero-copy view.
   */
  take(data: Buffer, size: number): { packet: Buffer | undefined; tail: Buffer } {
    if (this.held === 0 && data.length >= size) {
      return { packet: data.subarray(0, size), tail: data.subarray(size) };
    }
    const want = size - this.held;
    if (data.length < want) {
      // Copied: the caller may reuse its buffer before the packet completes.
      if (data.length > 0) this.parts.push(Buffer.from(data));
      this.held += data.length;
      return { packet: undefined, tail: EMPTY };
    }
    this.parts.push(data.subarray(0, want));
    const packet = Buffer.concat(this.parts, size);
    this.parts = [];
    this.held = 0;
    return { packet, tail: data.subarray(want) };
  }
}

/** Adobe RTMP spec §5.2.2: only version 3 is plain RTMP (6 is RTMPE, not supported). */
export const checkVersion = (version: number, what: 'C0' | 'S0'): void => {
  if (version !== RTMP_VERSION) {
    throw new ProtocolError(
      'RTMP_BAD_VERSION',
      `reading ${what}: RTMP version ${version} is not supported (expected ${RTMP_VERSION})`,
    );
  }
};

/**
 * What either side reads from its peer (RTMP spec §5.2): a version byte and a 1536-byte packet,
 * answered by `onFirst`, then the peer's 1536-byte echo, given to `onSecond`. Bytes after the
 * echo are returned as `rest`; pushes after that pass straight through.
 */
export class PeerPackets {
  private readonly collector = new PacketCollector();
  private phase: 'first' | 'second' | 'done' = 'first';
  private readonly what: 'C0' | 'S0';

  constructor(what: 'C0' | 'S0') {
    this.what = what;
  }

  /** Bytes held towards an incomplete packet (at most 1 + 1536). */
  get bufferedBytes(): number {
    return this.collector.length;
  }

  push(data: Buffer, onFirst: (packet: Buffer) => Buffer, onSecond: (packet: Buffer) => void): HandshakeStep {
    const send: Buffer[] = [];
    let input = data;
    if (this.phase === 'first') {
      // Reject a wrong version on its first byte, not after 1536 more (e.g. HTTP on the RTMP port).
      if (this.collector.length === 0 && input.length > 0) checkVersion(input[0]!, this.what);
      const { packet, tail } = this.collector.take(input, 1 + HANDSHAKE_PACKET_SIZE);
      if (packet === undefined) return { send, done: false, rest: EMPTY };
      send.push(onFirst(packet.subarray(1)));
      this.phase = 'second';
      input = tail;
    }
    if (this.phase === 'second') {
      const { packet, tail } = this.collector.take(input, HANDSHAKE_PACKET_SIZE);
      if (packet === undefined) return { send, done: false, rest: EMPTY };
      onSecond(packet);
      this.phase = 'done';
      return { send, done: true, rest: tail };
    }
    return { send, done: true, rest: input };
  }
}
