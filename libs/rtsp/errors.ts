import { ProtocolError } from '../errors/protocol-error.ts';

/** Stable ProtocolError codes raised by libs/rtsp. */
export const RtspErrorCode = {
  BadStartLine: 'RTSP_BAD_START_LINE',
  BadVersion: 'RTSP_BAD_VERSION',
  BadHeader: 'RTSP_BAD_HEADER',
  HeaderTooLarge: 'RTSP_HEADER_TOO_LARGE',
  TooManyHeaders: 'RTSP_TOO_MANY_HEADERS',
  BadContentLength: 'RTSP_BAD_CONTENT_LENGTH',
  BodyTooLarge: 'RTSP_BODY_TOO_LARGE',
  BadTransport: 'RTSP_BAD_TRANSPORT',
  BadSession: 'RTSP_BAD_SESSION',
  BadRtpInfo: 'RTSP_BAD_RTP_INFO',
  BadRange: 'RTSP_BAD_RANGE',
  BadUrl: 'RTSP_BAD_URL',
  BadSdp: 'RTSP_BAD_SDP',
  SdpTooManyMedia: 'RTSP_SDP_TOO_MANY_MEDIA',
  BadFmtp: 'RTSP_BAD_FMTP',
  BadChallenge: 'RTSP_BAD_CHALLENGE',
} as const;
export type RtspErrorCode = (typeof RtspErrorCode)[keyof typeof RtspErrorCode];

export function rtspError(code: RtspErrorCode, message: string): ProtocolError {
  return new ProtocolError(code, message);
}

/** Client-supplied text in an error message, cut short and made printable. */
export function quoteForError(s: string, max = 80): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(cut);
}
