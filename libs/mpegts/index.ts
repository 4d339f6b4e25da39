export { TsMuxer } from './muxer.ts';
export type { TsInputFrame, TsMuxerOptions, TsMuxerStats } from './muxer.ts';
export type { TsVideoCodec } from './video-track.ts';
export {
  TS_PACKET_SIZE,
  SYNC_BYTE,
  Pid,
  SluicePid,
  StreamType,
  PesStreamId,
  TableId,
  PROGRAM_NUMBER,
  TRANSPORT_STREAM_ID,
} from './constants.ts';
export { crc32Mpeg2 } from './crc32.ts';
export { TsErrorCode } from './errors.ts';
export { buildPat, buildPmt, parsePat, parsePmt } from './psi.ts';
export type { Pat, PatProgram, Pmt, PmtStream } from './psi.ts';
export { parsePesHeader, writePesHeader, pesHeaderSize } from './pes.ts';
export type { PesHeader, PesHeaderSpec } from './pes.ts';
export { PTS_MODULO, msTo90k, wrap33 } from './timestamp.ts';
export { TsDemuxer, DEFAULT_MAX_PES_BYTES, MAX_RECORDED_CC_ERRORS } from './demuxer.ts';
export type {
  TsDemuxEvent,
  TsDemuxStats,
  TsDemuxerOptions,
  TsPatEvent,
  TsPmtEvent,
  TsPesEvent,
  TsPcrEvent,
  TsDiscontinuityEvent,
  TsContinuityErrors,
} from './demux-events.ts';
