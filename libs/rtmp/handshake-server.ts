import { PeerPackets } from './handshake-collector.ts';
import type { HandshakeStep } from './handshake-collector.ts';
import {
  findDigest,
  HandshakeKey,
  makeDigestPacket,
  makeDigestResponse,
  makeSimplePacket,
  RTMP_VERSION,
} from './handshake-digest.ts';

export type { HandshakeStep } from './handshake-collector.ts';

export interface HandshakeServerOptions {
  /** Answer digest C1s with a digest S1/S2 (default true). Simple C1s always get a simple answer. */
  complex?: boolean;
}

/** Version field of a digest S1 (FMS 4.5.0.1); non-zero tells the client S1 carries a digest. */
const SERVER_VERSION = 0x04050001;

/**
 * Sans-I/O server side of the RTMP handshake (Adobe RTMP spec §5.2). Feed it whatever the
 * socket delivers; it answers C0+C1 with S0+S1+S2 in one buffer and reports done after C2.
 * C2's content is not checked (servers in the field ignore it). Pushes after done pass
 * their bytes straight through as `rest`.
 */
export class HandshakeServer {
  private readonly complex: boolean;
  private readonly peer = new PeerPackets('C0');
  private complexUsed = false;

  constructor(opts?: HandshakeServerOptions) {
    this.complex = opts?.complex ?? true;
  }

  /** Bytes held towards an incomplete C0+C1 or C2. */
  get bufferedBytes(): number {
    return this.peer.bufferedBytes;
  }

  /** Whether C1 carried a valid digest and was answered with the digest handshake. */
  get usedComplex(): boolean {
    return this.complexUsed;
  }

  push(data: Buffer): HandshakeStep {
    // C2's content is not checked (servers in the field ignore it).
    return this.peer.push(
      data,
      (c1) => this.answer(c1),
      () => undefined,
    );
  }

  /** S0+S1+S2 for this C1. */
  private answer(c1: Buffer): Buffer {
    const found = this.complex ? findDigest(c1, HandshakeKey.player) : undefined;
    const s0 = Buffer.of(RTMP_VERSION);
    if (found === undefined) {
      // §5.2.3/§5.2.4: our own S1, and S2 echoing C1.
      return Buffer.concat([s0, makeSimplePacket(0), c1]);
    }
    this.complexUsed = true;
    const s1 = makeDigestPacket(found.schema, HandshakeKey.server, 0, SERVER_VERSION).packet;
    const s2 = makeDigestResponse(found.digest, HandshakeKey.serverFull);
    return Buffer.concat([s0, s1, s2]);
  }
}
