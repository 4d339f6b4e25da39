import { RtmpClient } from '../../../libs/rtmp/client-connection.ts';
import { parseRtmpUrl } from '../../../libs/rtmp/client-url.ts';
import { StatusCode } from '../../../libs/rtmp/commands.ts';
import { classifyRtmpMedia } from '../classify.ts';
import {
  hostPort,
  PullProtocol,
  guarded,
  type PullSource,
  type PullSourceEvents,
  type PullSourceOptions,
} from './source.ts';

/** Why a played stream ended that is not a socket error: the source unpublished. */
class SourceEnded extends Error {
  readonly code = 'SOURCE_UNPUBLISHED';
}

/** Plays an RTMP(S) URL with RtmpClient: connect in open(), play in play(). */
export class RtmpPullSource implements PullSource {
  readonly protocol = PullProtocol.Rtmp;
  readonly remote: string;
  private readonly opts: PullSourceOptions;
  private readonly ev: PullSourceEvents;
  private client: RtmpClient | null = null;
  private closed = false;

  constructor(opts: PullSourceOptions, ev: PullSourceEvents) {
    const u = parseRtmpUrl(opts.url);
    this.remote = hostPort(u.host, u.port);
    this.opts = opts;
    this.ev = ev;
  }

  get bytesIn(): number {
    return this.client?.bytesIn ?? 0;
  }

  async open(): Promise<void> {
    const client = await RtmpClient.connect(this.opts.url, { timeoutMs: this.opts.timeoutMs });
    if (this.closed) {
      client.close();
      throw new Error('closed');
    }
    this.client = client;
    client.onClose = (err) => this.end(err);
    client.onStatus = (info) => {
      if (info.code === StatusCode.PlayUnpublishNotify || info.code === StatusCode.PlayStop) {
        this.end(new SourceEnded('the source unpublished the stream'));
      }
    };
    // Malformed frames throw ProtocolError: the pull counts and skips them.
    client.onMedia = (msg) =>
      guarded(this.ev, () => {
        const frame = classifyRtmpMedia(msg);
        if (frame) this.ev.onFrame(frame);
      });
  }

  async play(): Promise<void> {
    if (!this.client) throw new Error('play before open');
    await this.client.play();
  }

  close(): Promise<void> {
    this.end(null);
    return Promise.resolve();
  }

  private end(err: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    const c = this.client;
    if (c) {
      c.onClose = null;
      c.onMedia = null;
      c.close();
    }
    this.ev.onClose(err);
  }
}
