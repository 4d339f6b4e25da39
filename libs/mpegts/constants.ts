/** Fixed numbers of the transport stream layer (ISO/IEC 13818-1) and of the streams Sluice writes. */

export const TS_PACKET_SIZE = 188;
export const TS_HEADER_SIZE = 4;
/** Payload bytes of a packet without adaptation field. */
export const TS_MAX_PAYLOAD = TS_PACKET_SIZE - TS_HEADER_SIZE;
export const SYNC_BYTE = 0x47;

/** Well-known PIDs (Table 2-3). */
export const Pid = { Pat: 0x0000, Null: 0x1fff } as const;

/**
 * PIDs, program and stream ids of Sluice's own output, fixed so that the bytes depend only on
 * the frames (the same on every edge, whenever the muxer was made).
 */
export const SluicePid = { Pmt: 0x1000, Video: 0x0100, Audio: 0x0101 } as const;
export const PROGRAM_NUMBER = 1;
export const TRANSPORT_STREAM_ID = 1;

/** stream_type values (Table 2-34, and H.222.0 Amd. 3 for HEVC). */
export const StreamType = { Aac: 0x0f, H264: 0x1b, H265: 0x24 } as const;
export type StreamType = (typeof StreamType)[keyof typeof StreamType];

/** PES stream_id values we write (Table 2-22): the first video and the first audio stream. */
export const PesStreamId = { Video: 0xe0, Audio: 0xc0 } as const;

/** table_id values (Table 2-31). */
export const TableId = { Pat: 0x00, Pmt: 0x02 } as const;

/** The 90 kHz system clock of PTS/DTS and the PCR base. */
export const CLOCK_90K_PER_MS = 90;
