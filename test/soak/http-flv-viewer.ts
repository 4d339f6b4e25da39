import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { FlvStreamCheck } from './flv-check.ts';
import { Viewer } from './viewer.ts';

/** An HTTP-FLV player: a plain GET (one connection per viewer), the body checked as it arrives. */
export class HttpFlvViewer extends Viewer {
  private req: ClientRequest | null = null;
  private res: IncomingMessage | null = null;
  private closing = false;
  private readonly flv = new FlvStreamCheck((t, ts, b0, b1) => this.onTag(t, ts, b0, b1));

  protected open(): void {
    const req = request(this.plan.url, { agent: false }, (res) => {
      this.res = res;
      if (res.statusCode !== 200) {
        res.resume();
        if (res.statusCode === 404) this.onNotFound('HTTP 404');
        else this.onEnded(`HTTP ${res.statusCode}`);
        req.destroy();
        return;
      }
      res.on('data', (d: Buffer) => {
        this.onBytes(d.length);
        try {
          this.flv.push(d);
        } catch (e) {
          this.onBadStream((e as Error).message);
        }
      });
      res.on('end', () => this.ended('response ended'));
      res.on('close', () => this.ended('connection closed'));
    });
    req.on('error', (e) => this.ended(e.message));
    req.end();
    this.req = req;
  }

  private ended(why: string): void {
    if (!this.closing) this.onEnded(why);
  }

  protected pauseReading(): void {
    this.res?.pause();
    this.res?.socket?.pause();
  }

  protected resumeReading(): void {
    this.res?.socket?.resume();
    this.res?.resume();
  }

  protected close(): void {
    this.closing = true;
    this.req?.destroy();
  }
}
