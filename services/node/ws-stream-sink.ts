import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { endRaw } from '../../libs/http/client-error.ts';
import { EndReason, type OutputFormat, type Sink, type StreamStartInfo } from '../../libs/stream/index.ts';
import type { Container } from './containers.ts';

/**
 * A WebSocket-FLV or WebSocket-TS viewer: one binary message per shared buffer. The upgrade is
 * completed only once the stream has a publisher; a stream that never comes gets a plain HTTP
 * 404 on the upgrade request.
 */
export class WsStreamSink implements Sink {
  readonly sharesWindow = true;
  readonly id: string;
  readonly format: OutputFormat;
  readonly protocol: string;
  private readonly container: Container;
  private ws: WebSocket | null = null;
  private readonly wss: WebSocketServer;
  private readonly req: IncomingMessage;
  private readonly socket: Duplex;
  private readonly head: Buffer;
  private readonly onOpen: (ws: WebSocket) => void;

  constructor(
    id: string,
    container: Container,
    upgrade: { wss: WebSocketServer; req: IncomingMessage; socket: Duplex; head: Buffer },
    onOpen: (ws: WebSocket) => void,
    /** The label, when not the container's own (wss-flv on the TLS listener). */
    protocol = container.wsProtocol,
  ) {
    this.id = id;
    this.container = container;
    this.format = container.format;
    this.protocol = protocol;
    this.wss = upgrade.wss;
    this.req = upgrade.req;
    this.socket = upgrade.socket;
    this.head = upgrade.head;
    this.onOpen = onOpen;
  }

  get bufferedBytes(): number {
    return this.ws ? this.ws.bufferedAmount : 0;
  }

  start(info: StreamStartInfo): void {
    this.wss.handleUpgrade(this.req, this.socket, this.head, (ws) => {
      this.ws = ws;
      this.onOpen(ws);
      const head = this.container.head(info);
      if (head && head.length > 0) ws.send(head, { binary: true, compress: false });
    });
  }

  write(buf: Buffer): void {
    if (this.ws && this.ws.readyState === this.ws.OPEN) this.ws.send(buf, { binary: true, compress: false });
  }

  /**
   * Coalescing corks the upgraded TCP socket itself: ws writes each frame (header and the
   * shared tag) to it, so a corked window leaves as one writev like HTTP-FLV.
   */
  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  end(reason: EndReason): void {
    if (!this.ws) {
      // endRaw: a peer that ignores our FIN must not keep the socket (and its session) forever.
      endRaw(this.socket, 'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (reason === EndReason.Stalled) this.ws.terminate();
    else this.ws.close(1000, reason);
  }
}
