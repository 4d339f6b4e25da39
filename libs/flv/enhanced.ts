import type { ByteReader } from '../bytes/byte-reader.ts';

/**
 * Pieces shared by Enhanced RTMP audio and video headers (veovera enhanced-rtmp v2,
 * "ExAudioTagHeader" / "ExVideoTagHeader").
 */

/** AvMultitrackType: the high nibble of the byte after a Multitrack packet type. */
export const AvMultitrackType = { OneTrack: 0, ManyTracks: 1, ManyTracksManyCodecs: 2 } as const;
export type AvMultitrackType = (typeof AvMultitrackType)[keyof typeof AvMultitrackType];

/** PacketType value 7 (audio and video): a ModEx prelude follows. */
export const PACKET_TYPE_MOD_EX = 7;

/** Reads a FOURCC as its 4 latin1 characters ('avc1', 'Opus', '.mp3', ...). */
export function readFourCc(r: ByteReader, what: string): string {
  return r.bytes(4, what).toString('latin1');
}

/**
 * Skips the ModEx chain: while the packet type is ModEx, read modExDataSize (UI8 + 1,
 * or UI16 + 1 when the UI8 form says 256), the data, then a byte whose high nibble is
 * the ModEx type and low nibble the next packet type. The only ModEx type defined so far
 * (TimestampOffsetNano) adds sub-millisecond precision we do not need, so the data is
 * dropped. Returns the real packet type.
 */
export function skipModEx(r: ByteReader, packetType: number): number {
  let type = packetType;
  while (type === PACKET_TYPE_MOD_EX) {
    let size = r.u8('ModEx data size') + 1;
    if (size === 256) size = r.u16be('ModEx data size') + 1;
    r.skip(size, 'ModEx data');
    type = r.u8('ModEx type and packet type') & 0x0f;
  }
  return type;
}
