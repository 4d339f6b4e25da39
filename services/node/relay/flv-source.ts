import { HttpFlvClient } from '../../../libs/flv/http-client.ts';
import { classifyRtmpMedia } from '../classify.ts';
import {
  hostPort,
  PullProtocol,
  guarded,
  type PullSource,
  type PullSourceEvents,
  type PullSourceOptions,
} from './source.ts';

/** Plays an HTTP(S)-FLV URL: nothing to do before the claim; the GET in play(). */
export class FlvPullSource implements PullSource {
  readonly protocol = PullProtocol.Flv;
  readonly remote: string;
  private readonly client: HttpFlvClient;
  private readonly ev: PullSourceEvents;
  private closed = false;

  constructor(opts: PullSourceOptions, ev: PullSourceEvents) {
    const u = new URL(opts.url);
    const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    this.remote = hostPort(u.hostname.replace(/^\[(.*)\]$/, '$1'), port);
    this.ev = ev;
    this.client = new HttpFlvClient(opts.url, { timeoutMs: opts.timeoutMs });
    this.client.onClose = (err) => this.end(err);
    // FLV tags carry the RTMP message bodies: the same classification (ProtocolError: skipped).
    this.client.onTag = (t) =>
      guarded(this.ev, () => {
        const frame = classifyRtmpMedia({
          csid: 0,
          typeId: t.type,
          streamId: 1,
          timestamp: t.timestampMs,
          payload: t.body,
        });
        if (frame) this.ev.onFrame(frame);
      });
  }

  get bytesIn(): number {
    return this.client.bytesIn;
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  play(): Promise<void> {
    return this.client.open();
  }

  close(): Promise<void> {
    this.end(null);
    return Promise.resolve();
  }

  private end(err: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.client.onClose = null;
    this.client.close();
    this.ev.onClose(err);
  }
}
