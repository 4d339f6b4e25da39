/** Stable codes of RtspClientError: failures that are not a malformed peer (those are ProtocolError). */
export const RtspClientErrorCode = {
  /** The TCP/TLS connection failed, broke or was reset. */
  Network: 'RTSP_NETWORK',
  /** The server closed the connection. */
  Closed: 'RTSP_CLOSED',
  /** A request got no answer within requestTimeoutMs (connecting included). */
  Timeout: 'RTSP_TIMEOUT',
  /** No RTP for readTimeoutMs while playing. */
  ReadTimeout: 'RTSP_READ_TIMEOUT',
  /** 401 without credentials, or a second 401 after answering the challenge. */
  AuthFailed: 'RTSP_AUTH_FAILED',
  /** A non-2xx answer (the code carries no status; `status` does). */
  Status: 'RTSP_STATUS',
  /** DESCRIBE found no track the caller can use, or a track could not be set up. */
  NoTracks: 'RTSP_NO_TRACKS',
  /** Binding the local UDP pair failed. */
  UdpBind: 'RTSP_UDP_BIND',
} as const;
export type RtspClientErrorCode = (typeof RtspClientErrorCode)[keyof typeof RtspClientErrorCode];

/** Why an RTSP client session ended, when the peer's bytes were fine (else ProtocolError). */
export class RtspClientError extends Error {
  override readonly name = 'RtspClientError';
  readonly code: RtspClientErrorCode;
  /** The RTSP status of a refused request (code RTSP_STATUS / RTSP_AUTH_FAILED). */
  readonly status: number | undefined;

  constructor(code: RtspClientErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = code;
    this.status = options?.status;
  }
}
