import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The "complex" (digest) RTMP handshake that Flash players, librtmp (OBS) and ffmpeg use.
 * Not in the published Adobe spec (§5.2 describes only the simple form); the layout and
 * keys below are the de-facto protocol that every interoperable server implements.
 */

/** C0/S0 version byte, Adobe RTMP spec §5.2.2. 6 would be RTMPE (encrypted), unsupported. */
export const RTMP_VERSION = 3;
/** C1/S1/C2/S2 length, Adobe RTMP spec §5.2.3. */
export const HANDSHAKE_PACKET_SIZE = 1536;

const DIGEST_SIZE = 32;
/** The part of a digest S2/C2 before its trailing digest. */
const RESPONSE_RANDOM_SIZE = HANDSHAKE_PACKET_SIZE - DIGEST_SIZE;
/** Digest offsets are taken modulo this so the 32 bytes stay inside their 764-byte half. */
const OFFSET_MODULUS = 728;

/** Where the 4 offset bytes sit and what is added to their sum, per schema. */
export const DigestSchema = {
  /** Offset bytes at 8..11, digest in the first half (ffmpeg's default). */
  DigestFirst: 'digest-first',
  /** Offset bytes at 772..775, digest in the second half (librtmp / Flash's default). */
  KeyFirst: 'key-first',
} as const;
export type DigestSchema = (typeof DigestSchema)[keyof typeof DigestSchema];

const SCHEMA_LAYOUT: Record<DigestSchema, { offsetAt: number; base: number }> = {
  [DigestSchema.DigestFirst]: { offsetAt: 8, base: 12 },
  [DigestSchema.KeyFirst]: { offsetAt: 772, base: 776 },
};

/** Appended to both key texts to form the full keys used for S2/C2 (a protocol constant). */
const KEY_TAIL = Buffer.from('f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae', 'hex');
const PLAYER_TEXT = Buffer.from('Genuine Adobe Flash Player 001', 'latin1'); // 30 bytes
const SERVER_TEXT = Buffer.from('Genuine Adobe Flash Media Server 001', 'latin1'); // 36 bytes

export const HandshakeKey = {
  /** Keys the C1 digest. */
  player: PLAYER_TEXT,
  /** Keys the S1 digest. */
  server: SERVER_TEXT,
  /** 62 bytes; keys C2 (derived from the S1 digest). */
  playerFull: Buffer.concat([PLAYER_TEXT, KEY_TAIL]),
  /** 68 bytes; keys S2 (derived from the C1 digest). */
  serverFull: Buffer.concat([SERVER_TEXT, KEY_TAIL]),
} as const;

const hmac = (key: Buffer, ...data: Buffer[]): Buffer => {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return h.digest();
};

/** Offset of the 32-byte digest inside a 1536-byte C1/S1 for the given schema. */
export const digestOffset = (packet: Buffer, schema: DigestSchema): number => {
  const { offsetAt, base } = SCHEMA_LAYOUT[schema];
  const sum = packet[offsetAt]! + packet[offsetAt + 1]! + packet[offsetAt + 2]! + packet[offsetAt + 3]!;
  return (sum % OFFSET_MODULUS) + base;
};

/** HMAC-SHA256 over the packet with the 32 digest bytes at `offset` left out. */
const packetDigest = (packet: Buffer, offset: number, key: Buffer): Buffer =>
  hmac(key, packet.subarray(0, offset), packet.subarray(offset + DIGEST_SIZE));

export interface FoundDigest {
  schema: DigestSchema;
  /** A copy of the 32 digest bytes. */
  digest: Buffer;
}

/**
 * Looks for a valid digest in a 1536-byte C1/S1 under either schema. Returns undefined
 * when neither validates, i.e. the peer sent a simple-handshake packet.
 */
export const findDigest = (packet: Buffer, key: Buffer): FoundDigest | undefined => {
  if (packet.length !== HANDSHAKE_PACKET_SIZE) return undefined;
  for (const schema of [DigestSchema.DigestFirst, DigestSchema.KeyFirst]) {
    const offset = digestOffset(packet, schema);
    const claimed = packet.subarray(offset, offset + DIGEST_SIZE);
    if (timingSafeEqual(claimed, packetDigest(packet, offset, key))) {
      return { schema, digest: Buffer.from(claimed) };
    }
  }
  return undefined;
};

/**
 * A 1536-byte C1/S1: 4-byte time, 4-byte version, random fill and a digest keyed with
 * `key` at the schema's offset. Returns the packet and (a copy of) its digest.
 */
export const makeDigestPacket = (
  schema: DigestSchema,
  key: Buffer,
  timeMs: number,
  version: number,
): { packet: Buffer; digest: Buffer } => {
  const packet = randomBytes(HANDSHAKE_PACKET_SIZE);
  packet.writeUInt32BE(timeMs >>> 0, 0);
  packet.writeUInt32BE(version >>> 0, 4);
  const offset = digestOffset(packet, schema);
  const digest = packetDigest(packet, offset, key);
  digest.copy(packet, offset);
  return { packet, digest };
};

/** A 1536-byte simple C1/S1 (§5.2.3): time, four zero bytes, random. */
export const makeSimplePacket = (timeMs: number): Buffer => {
  const packet = randomBytes(HANDSHAKE_PACKET_SIZE);
  packet.writeUInt32BE(timeMs >>> 0, 0);
  packet.writeUInt32BE(0, 4);
  return packet;
};

/**
 * A digest S2 (fullKey = serverFull, peerDigest = C1's) or C2 (fullKey = playerFull,
 * peerDigest = S1's): 1504 random bytes then HMAC(HMAC(fullKey, peerDigest), those bytes).
 */
export const makeDigestResponse = (peerDigest: Buffer, fullKey: Buffer): Buffer => {
  const packet = randomBytes(HANDSHAKE_PACKET_SIZE);
  const random = packet.subarray(0, RESPONSE_RANDOM_SIZE);
  hmac(hmac(fullKey, peerDigest), random).copy(packet, RESPONSE_RANDOM_SIZE);
  return packet;
};

/** Whether a 1536-byte S2/C2 carries the digest that answers `ourDigest`. */
export const verifyDigestResponse = (packet: Buffer, ourDigest: Buffer, fullKey: Buffer): boolean => {
  if (packet.length !== HANDSHAKE_PACKET_SIZE) return false;
  const expected = hmac(hmac(fullKey, ourDigest), packet.subarray(0, RESPONSE_RANDOM_SIZE));
  return timingSafeEqual(expected, packet.subarray(RESPONSE_RANDOM_SIZE));
};
