import { TS_HEADER_SIZE, TS_PACKET_SIZE } from './constants.ts';
import { PCR_FIELD_SIZE, readPcrField } from './timestamp.ts';

/**
 * The header and adaptation field of one 188-byte transport packet (ISO/IEC 13818-1 §2.4.3.2,
 * §2.4.3.4), read into a reusable object: the demuxer reads every packet of every stream.
 */
export interface TsPacketInfo {
  transportError: boolean;
  payloadUnitStart: boolean;
  pid: number;
  /** transport_scrambling_control, 0 when clear. */
  scrambling: number;
  hasPayload: boolean;
  continuityCounter: number;
  discontinuity: boolean;
  randomAccess: boolean;
  /** PCR base (90 kHz) or -1. */
  pcr90k: number;
  pcrExtension: number;
  /** Offset of the payload from the packet's sync byte (188 when there is none). */
  payloadOffset: number;
}

export function newTsPacketInfo(): TsPacketInfo {
  return {
    transportError: false,
    payloadUnitStart: false,
    pid: 0,
    scrambling: 0,
    hasPayload: false,
    continuityCounter: 0,
    discontinuity: false,
    randomAccess: false,
    pcr90k: -1,
    pcrExtension: 0,
    payloadOffset: TS_PACKET_SIZE,
  };
}

const AF_DISCONTINUITY = 0x80;
const AF_RANDOM_ACCESS = 0x40;
const AF_PCR = 0x10;

/**
 * Reads the packet at `buf[at]` (its sync byte already checked) into `p`. Returns false when
 * the adaptation field does not fit the packet or adaptation_field_control is the reserved '00'.
 */
export function readTsPacket(buf: Buffer, at: number, p: TsPacketInfo): boolean {
  const b1 = buf[at + 1]!;
  const b3 = buf[at + 3]!;
  p.transportError = (b1 & 0x80) !== 0;
  p.payloadUnitStart = (b1 & 0x40) !== 0;
  p.pid = ((b1 & 0x1f) << 8) | buf[at + 2]!;
  p.scrambling = b3 >>> 6;
  const afc = (b3 >>> 4) & 0x03;
  p.continuityCounter = b3 & 0x0f;
  p.hasPayload = (afc & 0x01) !== 0;
  p.discontinuity = false;
  p.randomAccess = false;
  p.pcr90k = -1;
  p.pcrExtension = 0;
  p.payloadOffset = TS_HEADER_SIZE;
  if (afc === 0) return false;
  if ((afc & 0x02) === 0) return true;
  const afLength = buf[at + TS_HEADER_SIZE]!;
  p.payloadOffset = TS_HEADER_SIZE + 1 + afLength;
  if (p.payloadOffset > TS_PACKET_SIZE) return false;
  if (afLength > 0) {
    const flags = buf[at + TS_HEADER_SIZE + 1]!;
    p.discontinuity = (flags & AF_DISCONTINUITY) !== 0;
    p.randomAccess = (flags & AF_RANDOM_ACCESS) !== 0;
    if ((flags & AF_PCR) !== 0 && afLength >= 1 + PCR_FIELD_SIZE) {
      const pcr = readPcrField(buf, at + TS_HEADER_SIZE + 2);
      p.pcr90k = pcr.base90k;
      p.pcrExtension = pcr.extension;
    }
  }
  if (!p.hasPayload) p.payloadOffset = TS_PACKET_SIZE;
  return true;
}
