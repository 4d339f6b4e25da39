import { EMPTY, PeerPackets } from './handshake-collector.ts';
import type { HandshakeStep } from './handshake-collector.ts';
import {
  DigestSchema,
  findDigest,
  HandshakeKey,
  makeDigestPacket,
  makeDigestResponse,
  makeSimplePacket,
  RTMP_VERSION,
  verifyDigestResponse,
} from './handshake-digest.ts';

export type { HandshakeStep } from './handshake-collector.ts';

export interface HandshakeClientOptions {
  /** Send a digest C1 and answer a digest S1 with a digest C2 (default false). */
  complex?: boolean;
  /** Where the C1 digest goes when complex (default digest-first, as ffmpeg does). */
  schema?: DigestSchema;
}

/** Version field of a digest C1 (Flash Player 9.0.124.2); non-zero announces the digest. */
const CLIENT_VERSION = 0x09007c02;

/**
 * Sans-I/O client side of the RTMP handshake (Adobe RTMP spec §5.2): `start()` gives C0+C1,
 * S0+S1 are answered with C2, and S2 ends it. A bad S2 is not fatal: like librtmp and
 * ffmpeg when publishing, we only record the outcome in `s2Verified` and carry on, since
 * servers that answer a digest C1 with a sloppy S2 still speak RTMP fine afterwards.
 */
export class HandshakeClient {
  private readonly complex: boolean;
  private readonly schema: DigestSchema;
  private readonly peer = new PeerPackets('S0');
  private started = false;
  private c1: Buffer = EMPTY;
  private c1Digest: Buffer | undefined;
  private complexUsed = false;
  private s2Ok = false;

  constructor(opts?: HandshakeClientOptions) {
    this.complex = opts?.complex ?? false;
    this.schema = opts?.schema ?? DigestSchema.DigestFirst;
  }

  /** Bytes held towards an incomplete S0+S1 or S2. */
  get bufferedBytes(): number {
    return this.peer.bufferedBytes;
  }

  /** Whether S1 carried a valid server digest and C2 was the digest answer. */
  get usedComplex(): boolean {
    return this.complexUsed;
  }

  /** Whether S2 answered our C1 (its digest in complex mode, an echo of C1 otherwise). */
  get s2Verified(): boolean {
    return this.s2Ok;
  }

  /** C0+C1, to write first. */
  start(): Buffer {
    if (this.started) throw new Error('HandshakeClient.start() called twice');
    this.started = true;
    if (this.complex) {
      const { packet, digest } = makeDigestPacket(this.schema, HandshakeKey.player, 0, CLIENT_VERSION);
      this.c1 = packet;
      this.c1Digest = digest;
    } else {
      this.c1 = makeSimplePacket(0);
    }
    return Buffer.concat([Buffer.of(RTMP_VERSION), this.c1]);
  }

  push(data: Buffer): HandshakeStep {
    if (!this.started) throw new Error('HandshakeClient.push() before start()');
    return this.peer.push(
      data,
      (s1) => this.answer(s1),
      (s2) => {
        this.s2Ok =
          s2.equals(this.c1) ||
          (this.c1Digest !== undefined && verifyDigestResponse(s2, this.c1Digest, HandshakeKey.serverFull));
      },
    );
  }

  /** C2 for this S1: the digest answer if S1 validates, else an echo (§5.2.4). */
  private answer(s1: Buffer): Buffer {
    const found = this.complex ? findDigest(s1, HandshakeKey.server) : undefined;
    if (found === undefined) return Buffer.from(s1);
    this.complexUsed = true;
    return makeDigestResponse(found.digest, HandshakeKey.playerFull);
  }
}
