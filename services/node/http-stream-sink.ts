import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { EndReason, type OutputFormat, type Sink, type StreamStartInfo } from '../../libs/stream/index.ts';
import type { Container } from './containers.ts';

/** How long an ended response may take to drain before its socket is destroyed. */
const END_LINGER_MS = 5000;

/**
 * An HTTP-FLV or HTTP-TS viewer. Headers are sent only once the stream has a publisher, so a
 * miss is a real 404. The body is close-delimited (no chunked encoding, as lal and SRS do) and
 * written straight to the socket: the shared buffers go out with no per-viewer framing.
 */
export class HttpStreamSink implements Sink {
  readonly sharesWindow = true;
  readonly id: string;
  readonly format: OutputFormat;
  readonly protocol: string;
  private readonly container: Container;
  private readonly res: ServerResponse;
  private readonly headers: Record<string, string>;
  private socket: Socket | null = null;
  /** The connection's socket from the start, so a cork before start() covers the headers too. */
  private readonly corkTarget: Socket | null;

  /** `protocol`: the label, when not the container's own (https-flv on the TLS listener). */
  constructor(
    id: string,
    container: Container,
    res: ServerResponse,
    headers: Record<string, string>,
    protocol = container.httpProtocol,
  ) {
    this.id = id;
    this.container = container;
    this.format = container.format;
    this.protocol = protocol;
    this.res = res;
    this.headers = headers;
    this.corkTarget = res.socket;
  }

  get bufferedBytes(): number {
    return this.socket ? this.socket.writableLength : this.res.writableLength;
  }

  start(info: StreamStartInfo): void {
    // Without chunked encoding the body ends when the connection closes (RFC 9112 §6.3).
    this.res.useChunkedEncodingByDefault = false;
    this.res.shouldKeepAlive = false;
    this.res.writeHead(200, {
      ...this.headers,
      'Content-Type': this.container.contentType,
      Connection: 'close',
    });
    if (this.res.req.method === 'HEAD') {
      this.res.end();
      return;
    }
    this.res.flushHeaders();
    this.socket = this.res.socket;
    const head = this.container.head(info);
    if (head && head.length > 0) this.socket?.write(head);
  }

  write(buf: Buffer): void {
    if (this.socket?.writable) this.socket.write(buf);
  }

  cork(): void {
    this.corkTarget?.cork();
  }

  uncork(): void {
    this.corkTarget?.uncork();
  }

  end(reason: EndReason): void {
    if (reason === EndReason.Kicked) {
      // An operator ended it: at once, whatever is still queued.
      if (this.res.headersSent) this.res.destroy();
      else this.res.writeHead(403, { ...this.headers, 'Content-Type': 'text/plain' }).end('session ended\n');
    } else if (!this.res.headersSent) {
      const notFound = reason === EndReason.NotFound;
      this.res.writeHead(notFound ? 404 : 503, { ...this.headers, 'Content-Type': 'text/plain' });
      this.res.end(notFound ? 'stream not found\n' : 'server shutting down\n');
    } else if (reason === EndReason.Stalled) {
      this.res.destroy();
    } else {
      this.res.end();
      // The end is queued behind unsent media; a viewer that stopped reading must not hold the
      // socket (and its session and connection slot) forever.
      const res = this.res;
      setTimeout(() => res.destroy(), END_LINGER_MS).unref();
    }
  }
}
