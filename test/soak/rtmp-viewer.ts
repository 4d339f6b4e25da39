import { RtmpClient, RtmpClientError } from '../../libs/rtmp/client-connection.ts';
import { StatusCode } from '../../libs/rtmp/commands.ts';
import { VIEWER } from './config.ts';
import { Behaviour, Viewer } from './viewer.ts';

const describe = (e: unknown): string => {
  const err = e as { code?: unknown; message?: unknown };
  return typeof err.code === 'string' ? `${err.code}: ${String(err.message)}` : String(err.message ?? e);
};

/** An RTMP player on the project's RtmpClient: connect, play, media messages to the check. */
export class RtmpViewer extends Viewer {
  private client: RtmpClient | null = null;
  private closing = false;

  protected open(): void {
    // Bounds connect and play each; a missing key's play waits for the edge's refusal.
    const timeoutMs = this.plan.behaviour === Behaviour.Missing ? VIEWER.notFoundDeadlineMs + 5000 : 10_000;
    RtmpClient.connect(this.plan.url, { timeoutMs })
      .then(async (c) => {
        this.client = c;
        if (this.isDone) return c.socket.destroy();
        c.socket.on('data', (d: Buffer) => this.onBytes(d.length));
        c.onMedia = (m) => this.onTag(m.typeId, m.timestamp, m.payload[0] ?? 0, m.payload[1] ?? 0);
        c.onClose = (err) => {
          if (!this.closing) this.onEnded(err ? describe(err) : 'server closed the connection');
        };
        await c.play();
      })
      .catch((e: unknown) => {
        if (this.closing) return;
        if (e instanceof RtmpClientError && e.code === StatusCode.PlayStreamNotFound)
          this.onNotFound(describe(e));
        else this.onEnded(describe(e));
      });
  }

  protected pauseReading(): void {
    this.client?.socket.pause();
  }

  protected resumeReading(): void {
    this.client?.socket.resume();
  }

  protected close(polite: boolean): void {
    this.closing = true;
    if (!this.client) return;
    if (polite) this.client.close();
    else this.client.socket.destroy();
  }
}
