import type { ServerResponse } from 'node:http';
import { encodeFlvHeader } from '../../libs/flv/index.ts';
import { EndReason, type Sink, type StreamStartInfo } from '../../libs/stream/index.ts';
import { flvFormat } from './formats.ts';

/** An HTTP-FLV viewer. Headers are sent only once the stream has a publisher, so a miss is a real 404. */
export class HttpFlvSink implements Sink {
  readonly id: string;
  readonly format = flvFormat;
  private readonly res: ServerResponse;
  private readonly headers: Record<string, string>;

  constructor(id: string, res: ServerResponse, headers: Record<string, string>) {
    this.id = id;
    this.res = res;
    this.headers = headers;
  }

  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  start(info: StreamStartInfo): void {
    this.res.writeHead(200, { ...this.headers, 'Content-Type': 'video/x-flv' });
    if (this.res.req.method === 'HEAD') {
      this.res.end();
      return;
    }
    this.res.write(encodeFlvHeader(info.hasAudio, info.hasVideo));
  }

  write(buf: Buffer): void {
    if (!this.res.writableEnded) this.res.write(buf);
  }

  cork(): void {
    this.res.socket?.cork();
  }

  uncork(): void {
    this.res.socket?.uncork();
  }

  end(reason: EndReason): void {
    if (!this.res.headersSent) {
      const notFound = reason === EndReason.NotFound;
      this.res.writeHead(notFound ? 404 : 503, { ...this.headers, 'Content-Type': 'text/plain' });
      this.res.end(notFound ? 'stream not found\n' : 'server shutting down\n');
    } else if (reason === EndReason.Stalled) {
      this.res.destroy();
    } else {
      this.res.end();
    }
  }
}
