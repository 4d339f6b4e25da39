import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import type { RtmpServerConnection, StreamRequest } from '../../libs/rtmp/server-connection.ts';
import { EndReason, type OutputFormat, type Sink, type StreamStartInfo } from '../../libs/stream/index.ts';
import { rtmpFormat, rtmpRelayFormat } from './formats.ts';

/** An RTMP player as a stream sink: shared chunk bytes straight to its socket. */
export class RtmpPlaySink implements Sink {
  readonly id: string;
  readonly format: OutputFormat;
  readonly coalesce: boolean;
  readonly sharesWindow: boolean;
  /** The viewer's protocol label: its listener (rtmp, rtmps), or relay for an edge's pull. */
  readonly protocol: 'rtmp' | 'rtmps' | 'relay';
  /** Relays never lose a frame that starts an HLS segment (see Sink). */
  readonly keepsSegmentStarts: boolean;
  private readonly conn: RtmpServerConnection;
  private readonly req: StreamRequest;
  private started = false;

  /** `coalesce` false for relay pulls: an edge's viewers should not pay the window twice. */
  constructor(
    conn: RtmpServerConnection,
    req: StreamRequest,
    coalesce = true,
    proto: 'rtmp' | 'rtmps' = 'rtmp',
  ) {
    this.coalesce = coalesce;
    this.sharesWindow = coalesce;
    this.protocol = coalesce ? proto : 'relay';
    this.keepsSegmentStarts = !coalesce;
    this.id = conn.id;
    this.conn = conn;
    this.req = req;
    // Relays get the owner's HLS segment marks with the frames.
    this.format = coalesce
      ? rtmpFormat(req.streamId, conn.chunkSize)
      : rtmpRelayFormat(req.streamId, conn.chunkSize);
  }

  get bufferedBytes(): number {
    return this.conn.socket.writableLength;
  }

  start(_info: StreamStartInfo): void {
    this.started = true;
    this.conn.startPlay(this.req);
  }

  write(buf: Buffer): void {
    this.conn.sendRaw(buf);
  }

  cork(): void {
    this.conn.socket.cork();
  }

  uncork(): void {
    this.conn.socket.uncork();
  }

  end(reason: EndReason): void {
    switch (reason) {
      case EndReason.NotFound:
        this.conn.rejectPlay(this.req.streamId, `stream ${this.req.key} not found`, 'not-found');
        return;
      case EndReason.Unpublished:
        this.conn.endPlay(this.req.streamId, 'unpublished');
        return;
      case EndReason.Stalled:
        this.conn.fail(new ProtocolError('VIEWER_STALLED', 'viewer stopped reading'));
        return;
      case EndReason.Kicked:
        this.conn.fail(new Error('kicked'));
        return;
      case EndReason.Shutdown:
        // A player that never started gets no UnpublishNotify for a stream it never saw.
        if (this.started) this.conn.endPlay(this.req.streamId, 'shutdown');
        else this.conn.fail(new Error('server shutting down'));
        return;
    }
  }
}
