import type { Pat, Pmt } from './psi.ts';

/** What TsDemuxer reports: events in stream order, and counters of what it skipped. */

export interface TsPatEvent {
  type: 'pat';
  /** Where: the index of the transport packet (0-based, counting accepted packets). */
  packetIndex: number;
  pat: Pat;
  /** Differs from the PAT before it (or is the first). */
  changed: boolean;
}

export interface TsPmtEvent {
  type: 'pmt';
  packetIndex: number;
  pid: number;
  pmt: Pmt;
  changed: boolean;
}

export interface TsPesEvent {
  type: 'pes';
  /** The packet where the PES started. */
  packetIndex: number;
  pid: number;
  /** stream_type from the PMT. */
  streamType: number;
  streamId: number;
  /** 33-bit 90 kHz values; null when the header has no PTS. DTS equals PTS when absent. */
  pts90k: number | null;
  dts90k: number | null;
  /** Elementary stream bytes after the PES header (a copy). */
  data: Buffer;
  /** random_access_indicator of the first packet. */
  randomAccess: boolean;
  /** PCR base (90 kHz) carried by the first packet, or null. */
  pcr90k: number | null;
  /** A continuity counter error happened inside this PES: bytes are missing. */
  continuityError: boolean;
}

export interface TsPcrEvent {
  type: 'pcr';
  packetIndex: number;
  pid: number;
  pcr90k: number;
  /** 27 MHz remainder (0..299). */
  pcrExtension: number;
}

export interface TsDiscontinuityEvent {
  type: 'discontinuity';
  packetIndex: number;
  pid: number;
  expected: number;
  got: number;
}

export type TsDemuxEvent = TsPatEvent | TsPmtEvent | TsPesEvent | TsPcrEvent | TsDiscontinuityEvent;

export interface TsContinuityErrors {
  count: number;
  /** Packet indexes of the first errors (at most MAX_RECORDED_CC_ERRORS). */
  packetIndexes: number[];
}

export interface TsDemuxStats {
  /** Packets accepted (sync byte in place). */
  packets: number;
  /** Times the sync byte was not where the previous packet said. */
  syncLosses: number;
  /** Bytes skipped while looking for sync, and the cut packet at the end. */
  skippedBytes: number;
  /** Packets with transport_error_indicator, a bad adaptation field, or scrambled payload. */
  badPackets: number;
  /** Repeated packets (same continuity counter), ignored. */
  duplicatePackets: number;
  /** Continuity counter errors per PID. */
  continuity: Map<number, TsContinuityErrors>;
  crcErrors: number;
  /** PSI sections with a bad structure, cut by a lost packet, or over 1021 bytes. */
  badSections: number;
  badPesHeaders: number;
  /** PES packets over maxPesBytes (or over the total buffer limit), dropped. */
  oversizedPes: number;
  /** Bounded PES packets cut short by the next unit start or the end of the stream, dropped. */
  truncatedPes: number;
}

export interface TsDemuxerOptions {
  /** Largest PES packet reassembled. Default 8 MiB (far above any real frame). */
  maxPesBytes?: number;
  /** Bytes of all PES packets in progress together. Default 2 x maxPesBytes. */
  maxBufferedBytes?: number;
}
