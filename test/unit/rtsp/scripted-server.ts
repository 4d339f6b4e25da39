import { createServer, type Server, type Socket } from 'node:net';
import { RtspHeaders, RtspReader, serializeResponse, type RtspRequest } from '../../../libs/rtsp/index.ts';

/** What a scripted answer may be: a response, or null to stay silent (a request timeout). */
export interface ScriptedAnswer {
  status: number;
  headers?: [string, string][];
  body?: string;
}

export type Script = (req: RtspRequest, conn: ScriptedConnection) => ScriptedAnswer | null;

export interface ScriptedConnection {
  socket: Socket;
  requests: RtspRequest[];
  /** Writes an interleaved frame ('$', channel, length, payload). */
  interleaved(channel: number, payload: Buffer): void;
}

/**
 * An in-process RTSP server on 127.0.0.1:0 that answers each request from a function (a table
 * in the tests), echoing CSeq, and records what it received.
 */
export class ScriptedServer {
  readonly server: Server;
  readonly connections: ScriptedConnection[] = [];
  port = 0;

  private constructor(script: Script) {
    this.server = createServer((socket) => {
      const reader = new RtspReader();
      const conn: ScriptedConnection = {
        socket,
        requests: [],
        interleaved: (channel, payload) => {
          const h = Buffer.from([0x24, channel, payload.length >> 8, payload.length & 0xff]);
          socket.write(Buffer.concat([h, payload]));
        },
      };
      this.connections.push(conn);
      socket.on('error', () => {});
      socket.on('data', (chunk: Buffer) => {
        for (const item of reader.push(chunk)) {
          if (item.type !== 'request') continue;
          const req = item.request;
          conn.requests.push(req);
          const answer = script(req, conn);
          if (!answer) continue;
          const headers = new RtspHeaders([
            ['CSeq', req.headers.get('cseq') ?? '0'],
            ...(answer.headers ?? []),
          ]);
          socket.write(
            serializeResponse({
              status: answer.status,
              headers,
              ...(answer.body !== undefined ? { body: Buffer.from(answer.body) } : {}),
            }),
          );
        }
      });
    });
  }

  static async start(script: Script): Promise<ScriptedServer> {
    const s = new ScriptedServer(script);
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    const addr = s.server.address();
    s.port = typeof addr === 'object' && addr ? addr.port : 0;
    return s;
  }

  /** Every request method received, in order, over all connections. */
  get methods(): string[] {
    return this.connections.flatMap((c) => c.requests.map((r) => r.method));
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export const SDP = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=test',
  't=0 0',
  'a=control:*',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1',
  'a=control:trackID=0',
  'm=audio 0 RTP/AVP 97',
  'a=rtpmap:97 MPEG4-GENERIC/44100/2',
  'a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210',
  'a=control:trackID=1',
  '',
].join('\r\n');

/** An RTP packet: version 2, payload type, sequence number, timestamp, SSRC, payload. */
export function rtpPacket(pt: number, seq: number, ts: number, ssrc: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = pt & 0x7f;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([h, payload]);
}
