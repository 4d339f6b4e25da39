import { ProtocolError } from '../errors/protocol-error.ts';
import { TableId } from './constants.ts';
import { crc32Mpeg2 } from './crc32.ts';
import { TsErrorCode } from './errors.ts';

/**
 * Program Specific Information: the Program Association Table and the Program Map Table
 * (ISO/IEC 13818-1 §2.4.4), built as complete sections (header, body, CRC_32) and parsed back.
 * Every section here is a single section (section_number = last_section_number = 0) with
 * current_next_indicator 1.
 */

export interface PatProgram {
  programNumber: number;
  /** program_map_PID (network_PID when programNumber is 0). */
  pmtPid: number;
}

export interface Pat {
  transportStreamId: number;
  version: number;
  programs: PatProgram[];
}

export interface PmtStream {
  streamType: number;
  pid: number;
  /** The raw ES_info descriptors. */
  descriptors: Buffer;
}

export interface Pmt {
  programNumber: number;
  version: number;
  pcrPid: number;
  streams: PmtStream[];
}

/** Syntax section header up to last_section_number, and the CRC_32 after the body. */
const LONG_HEADER_SIZE = 8;
const CRC_SIZE = 4;
/** section_length may not exceed 1021 for PAT and PMT (§2.4.4.3, §2.4.4.8). */
export const MAX_PSI_SECTION_LENGTH = 1021;
const PAT_ENTRY_SIZE = 4;
const PMT_FIXED_SIZE = 4;
const PMT_ES_HEADER_SIZE = 5;

function bad(message: string): ProtocolError {
  return new ProtocolError(TsErrorCode.BadSection, message);
}

/**
 * Writes the 8-byte syntax header and the CRC around a body of `bodyLength` bytes that `fill`
 * writes at the offset it is given.
 */
function buildSection(
  tableId: number,
  idExtension: number,
  version: number,
  bodyLength: number,
  fill: (buf: Buffer, offset: number) => void,
): Buffer {
  const sectionLength = LONG_HEADER_SIZE - 3 + bodyLength + CRC_SIZE;
  if (sectionLength > MAX_PSI_SECTION_LENGTH) throw bad(`section_length ${sectionLength} exceeds 1021`);
  const buf = Buffer.allocUnsafe(3 + sectionLength);
  buf[0] = tableId;
  // section_syntax_indicator 1, '0', reserved '11', 12-bit section_length.
  buf[1] = 0xb0 | (sectionLength >>> 8);
  buf[2] = sectionLength & 0xff;
  buf.writeUInt16BE(idExtension, 3);
  buf[5] = 0xc0 | ((version & 0x1f) << 1) | 0x01; // reserved '11', version_number, current_next_indicator
  buf[6] = 0; // section_number
  buf[7] = 0; // last_section_number
  fill(buf, LONG_HEADER_SIZE);
  buf.writeUInt32BE(crc32Mpeg2(buf, 0, buf.length - CRC_SIZE), buf.length - CRC_SIZE);
  return buf;
}

/** A PAT section (§2.4.4.3). */
export function buildPat(pat: Pat): Buffer {
  return buildSection(
    TableId.Pat,
    pat.transportStreamId,
    pat.version,
    pat.programs.length * PAT_ENTRY_SIZE,
    (buf, at) => {
      for (const p of pat.programs) {
        buf.writeUInt16BE(p.programNumber, at);
        buf.writeUInt16BE(0xe000 | (p.pmtPid & 0x1fff), at + 2); // reserved '111'
        at += PAT_ENTRY_SIZE;
      }
    },
  );
}

/** A PMT section (§2.4.4.8) without program descriptors. */
export function buildPmt(pmt: Pmt): Buffer {
  let bodyLength = PMT_FIXED_SIZE;
  for (const s of pmt.streams) bodyLength += PMT_ES_HEADER_SIZE + s.descriptors.length;
  return buildSection(TableId.Pmt, pmt.programNumber, pmt.version, bodyLength, (buf, at) => {
    buf.writeUInt16BE(0xe000 | (pmt.pcrPid & 0x1fff), at); // reserved '111', PCR_PID
    buf.writeUInt16BE(0xf000, at + 2); // reserved '1111', program_info_length 0
    at += PMT_FIXED_SIZE;
    for (const s of pmt.streams) {
      buf[at] = s.streamType;
      buf.writeUInt16BE(0xe000 | (s.pid & 0x1fff), at + 1);
      buf.writeUInt16BE(0xf000 | s.descriptors.length, at + 3);
      s.descriptors.copy(buf, at + PMT_ES_HEADER_SIZE);
      at += PMT_ES_HEADER_SIZE + s.descriptors.length;
    }
  });
}

/** The parts of a syntax section every table shares. */
interface Section {
  tableId: number;
  idExtension: number;
  version: number;
  /** The bytes between last_section_number and the CRC_32. */
  body: Buffer;
}

/**
 * Total size (3 + section_length) of the section starting at `buf[0]`, or -1 when fewer than
 * 3 bytes are known.
 */
export function sectionSize(buf: Uint8Array): number {
  if (buf.length < 3) return -1;
  return 3 + (((buf[1]! & 0x0f) << 8) | buf[2]!);
}

/** Checks the syntax header and the CRC_32 of one complete section. Raises TS_BAD_SECTION / TS_BAD_CRC. */
function parseSection(buf: Buffer, expectedTableId: number, what: string): Section {
  if (buf.length < LONG_HEADER_SIZE + CRC_SIZE) throw bad(`${what}: ${buf.length}-byte section is too short`);
  const size = sectionSize(buf);
  if (size !== buf.length) throw bad(`${what}: section_length says ${size} bytes, got ${buf.length}`);
  if (buf[0] !== expectedTableId) throw bad(`${what}: table_id ${buf[0]}, expected ${expectedTableId}`);
  if ((buf[1]! & 0x80) === 0) throw bad(`${what}: section_syntax_indicator is 0`);
  if (size - 3 > MAX_PSI_SECTION_LENGTH) throw bad(`${what}: section_length ${size - 3} exceeds 1021`);
  if (crc32Mpeg2(buf) !== 0) {
    const stored = buf
      .readUInt32BE(buf.length - CRC_SIZE)
      .toString(16)
      .padStart(8, '0');
    throw new ProtocolError(TsErrorCode.BadCrc, `${what}: CRC_32 0x${stored} does not match the section`);
  }
  return {
    tableId: buf[0]!,
    idExtension: buf.readUInt16BE(3),
    version: (buf[5]! >>> 1) & 0x1f,
    body: buf.subarray(LONG_HEADER_SIZE, buf.length - CRC_SIZE),
  };
}

/** Parses one complete PAT section (from table_id to CRC_32). */
export function parsePat(buf: Buffer): Pat {
  const s = parseSection(buf, TableId.Pat, 'PAT');
  if (s.body.length % PAT_ENTRY_SIZE !== 0)
    throw bad(`PAT: ${s.body.length}-byte program loop is not a multiple of 4`);
  const programs: PatProgram[] = [];
  for (let at = 0; at < s.body.length; at += PAT_ENTRY_SIZE) {
    programs.push({ programNumber: s.body.readUInt16BE(at), pmtPid: s.body.readUInt16BE(at + 2) & 0x1fff });
  }
  return { transportStreamId: s.idExtension, version: s.version, programs };
}

/** Parses one complete PMT section (from table_id to CRC_32). */
export function parsePmt(buf: Buffer): Pmt {
  const s = parseSection(buf, TableId.Pmt, 'PMT');
  const b = s.body;
  if (b.length < PMT_FIXED_SIZE)
    throw bad(`PMT: ${b.length}-byte body has no PCR_PID and program_info_length`);
  const pcrPid = b.readUInt16BE(0) & 0x1fff;
  const programInfoLength = b.readUInt16BE(2) & 0x0fff;
  let at = PMT_FIXED_SIZE + programInfoLength;
  if (at > b.length) throw bad(`PMT: program_info_length ${programInfoLength} overruns the section`);
  const streams: PmtStream[] = [];
  while (at < b.length) {
    if (at + PMT_ES_HEADER_SIZE > b.length) throw bad(`PMT: truncated elementary stream entry at ${at}`);
    const esInfoLength = b.readUInt16BE(at + 3) & 0x0fff;
    const end = at + PMT_ES_HEADER_SIZE + esInfoLength;
    if (end > b.length) throw bad(`PMT: ES_info_length ${esInfoLength} overruns the section`);
    streams.push({
      streamType: b[at]!,
      pid: b.readUInt16BE(at + 1) & 0x1fff,
      descriptors: b.subarray(at + PMT_ES_HEADER_SIZE, end),
    });
    at = end;
  }
  return { programNumber: s.idExtension, version: s.version, pcrPid, streams };
}
