import { ProtocolError } from '../errors/protocol-error.ts';
import { RTMP_VERSION } from './handshake-digest.ts';

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
