import type { AuthAction } from '../../../libs/auth/signed-url.ts';
import type { AuthConfig } from './auth-config.ts';

/**
 * Which of lal's simple_auth flags covers a session. lal has one flag per protocol; the WebSocket
 * and TLS forms (which lal names differently or lacks) follow their plain protocol.
 */
export function simpleAuthApplies(
  s: AuthConfig['simpleAuth'],
  action: AuthAction,
  protocol: string,
): boolean {
  if (action === 'publish') {
    if (protocol === 'rtmp' || protocol === 'rtmps') return s.pub_rtmp_enable;
    if (protocol === 'rtsp' || protocol === 'rtsps') return s.pub_rtsp_enable;
    return false;
  }
  switch (protocol) {
    case 'rtmp':
    case 'rtmps':
      return s.sub_rtmp_enable;
    case 'rtsp':
    case 'rtsps':
      return s.sub_rtsp_enable;
    case 'http-flv':
    case 'https-flv':
    case 'ws-flv':
    case 'wss-flv':
      return s.sub_httpflv_enable;
    case 'http-ts':
    case 'https-ts':
    case 'ws-ts':
    case 'wss-ts':
      return s.sub_httpts_enable;
    case 'hls':
      return s.hls_m3u8_enable;
    default:
      return false;
  }
}
