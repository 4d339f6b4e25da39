/** Stable `ProtocolError` codes raised by libs/rtp. */
export const RtpErrorCode = {
  BadVersion: 'RTP_BAD_VERSION',
  Truncated: 'RTP_TRUNCATED',
  BadPadding: 'RTP_BAD_PADDING',
  BadInterleaved: 'RTP_BAD_INTERLEAVED',
  BadAggregate: 'RTP_BAD_AGGREGATE',
  BadFragment: 'RTP_BAD_FRAGMENT',
  UnsupportedPayload: 'RTP_UNSUPPORTED_PAYLOAD',
  FrameTooLarge: 'RTP_FRAME_TOO_LARGE',
  TooManyNals: 'RTP_TOO_MANY_NALS',
  BadAacHeaders: 'RTP_BAD_AAC_HEADERS',
  BadAacConfig: 'RTP_BAD_AAC_CONFIG',
  AacUnitTooLarge: 'RTP_AAC_AU_TOO_LARGE',
  BadRtcp: 'RTCP_BAD_PACKET',
  BadRtcpVersion: 'RTCP_BAD_VERSION',
  RtcpTruncated: 'RTCP_TRUNCATED',
} as const;
export type RtpErrorCode = (typeof RtpErrorCode)[keyof typeof RtpErrorCode];
