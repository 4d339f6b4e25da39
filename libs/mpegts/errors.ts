/** Stable `ProtocolError` codes raised by libs/mpegts parsers (the demuxer counts them instead of throwing). */
export const TsErrorCode = {
  BadSection: 'TS_BAD_SECTION',
  BadCrc: 'TS_BAD_CRC',
  BadPesHeader: 'TS_BAD_PES_HEADER',
} as const;
export type TsErrorCode = (typeof TsErrorCode)[keyof typeof TsErrorCode];
