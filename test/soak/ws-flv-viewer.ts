import WebSocket from 'ws';
import { FlvStreamCheck } from './flv-check.ts';
import { Viewer } from './viewer.ts';

/** A WebSocket-FLV player (the `ws` package): binary messages carry the FLV byte stream. */
export class WsFlvViewer extends Viewer {
  private ws: WebSocket | null = null;
  private closing = false;
  private readonly flv = new FlvStreamCheck((t, ts, b0, b1) => this.onTag(t, ts, b0, b1));

  protected open(): void {
    const ws = new WebSocket(this.plan.url, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      if (res.statusCode === 404) this.onNotFound('HTTP 404 on upgrade');
      else this.ended(`HTTP ${res.statusCode} on upgrade`);
      ws.terminate();
    });
    ws.on('message', (d: Buffer) => {
      this.onBytes(d.length);
      try {
        this.flv.push(d);
      } catch (e) {
        this.onBadStream((e as Error).message);
      }
    });
    ws.on('close', (code) => this.ended(`closed (${code})`));
    ws.on('error', (e) => this.ended(e.message));
    this.ws = ws;
  }

  private ended(why: string): void {
    if (!this.closing) this.onEnded(why);
  }

  protected pauseReading(): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.pause();
  }

  protected resumeReading(): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.resume();
  }

  protected close(polite: boolean): void {
    this.closing = true;
    const ws = this.ws;
    if (!ws) return;
    if (polite && ws.readyState === WebSocket.OPEN) {
      ws.close(1000);
      // A server that never answers the close must not keep the socket.
      setTimeout(() => ws.terminate(), 2000).unref();
    } else ws.terminate();
  }
}
