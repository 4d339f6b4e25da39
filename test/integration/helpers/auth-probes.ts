import WebSocket from 'ws';
import { RtmpViewer } from './cluster.ts';
import { RawRtsp } from './rtsp.ts';
import type { SluiceProcess } from './sluice.ts';

/**
 * One quick attempt to play `key?query` over a protocol: 'ok' when the server lets the viewer
 * in, else the refusal (HTTP/RTSP status, or 'refused' for RTMP).
 */
export type PlayProto = 'rtmp' | 'http-flv' | 'ws-flv' | 'http-ts' | 'ws-ts' | 'hls' | 'rtsp';
export const PLAY_PROTOS: readonly PlayProto[] = [
  'rtmp',
  'http-flv',
  'ws-flv',
  'http-ts',
  'ws-ts',
  'hls',
  'rtsp',
];

export async function tryPlay(
  node: SluiceProcess,
  proto: PlayProto,
  key: string,
  query: string,
): Promise<'ok' | number | 'refused'> {
  const q = query ? `?${query}` : '';
  switch (proto) {
    case 'rtmp': {
      try {
        const v = await RtmpViewer.play(`${node.rtmp}/${key}${q}`);
        v.close();
        return 'ok';
      } catch {
        return 'refused';
      }
    }
    case 'http-flv':
    case 'http-ts': {
      const ac = new AbortController();
      const res = await fetch(`${node.http}/${key}.${proto === 'http-flv' ? 'flv' : 'ts'}${q}`, {
        signal: ac.signal,
      });
      ac.abort();
      return res.status === 200 ? 'ok' : res.status;
    }
    case 'ws-flv':
    case 'ws-ts':
      return new Promise((resolve) => {
        const ws = new WebSocket(`${node.ws}/${key}.${proto === 'ws-flv' ? 'flv' : 'ts'}${q}`);
        ws.on('open', () => {
          ws.terminate();
          resolve('ok');
        });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('error', () => resolve(0));
      });
    case 'hls': {
      const res = await fetch(`${node.http}/${key}.m3u8${q}`, { redirect: 'manual' });
      await res.arrayBuffer();
      return res.status === 302 ? 'ok' : res.status;
    }
    case 'rtsp': {
      const c = await RawRtsp.open(Number(new URL(node.rtsp!.replace('rtsp:', 'http:')).port));
      try {
        const a = await c.request('DESCRIBE', `${node.rtsp}/${key}${q}`, { Accept: 'application/sdp' });
        return a.status === 200 ? 'ok' : a.status;
      } finally {
        c.close();
      }
    }
  }
}

/** An RTSP ANNOUNCE of an H.264 track to `key?query`: its status. */
export async function tryAnnounce(node: SluiceProcess, key: string, query: string): Promise<number> {
  const c = await RawRtsp.open(Number(new URL(node.rtsp!.replace('rtsp:', 'http:')).port));
  const sdp = Buffer.from(
    'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
      'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:trackID=0\r\n',
  );
  try {
    const url = `${node.rtsp}/${key}${query ? `?${query}` : ''}`;
    const a = await c.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, sdp);
    return a.status;
  } finally {
    c.close();
  }
}

/** Every log line's text; a secret must appear in none. */
export function logText(nodes: SluiceProcess[]): string {
  return nodes.flatMap((n) => n.logs.map((l) => JSON.stringify(l))).join('\n');
}
