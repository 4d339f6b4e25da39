import { buildSdp, formatRtpInfo, type RtspRequest } from '../../../libs/rtsp/index.ts';
import {
  EndReason,
  type Sink,
  type Stream,
  type StreamStartInfo,
  type Subscriber,
} from '../../../libs/stream/index.ts';
import type { SessionInfo } from '../hooks.ts';
import type { RtspConnection } from './connection.ts';
import type { RtspContext } from './context.ts';
import { sdpTracks, waitDescribable } from './describe.ts';
import { RtspPlaySink, type TrackRoute, type TrackStart } from './play-sink.ts';
import type { Reply } from './reply.ts';
import { rtpChannelOf, rtpFormat, TrackId, type RtpStreamState } from './rtp-format.ts';
import {
  checkAuth,
  chooseTransport,
  fromPeer,
  isReply,
  peerAddress,
  streamOf,
  tcpTransportReply,
  udpPairFor,
  udpTransportReply,
} from './session-common.ts';
import type { UdpPair } from './udp-ports.ts';

/**
 * Counted as the stream's viewer between DESCRIBE and PLAY (and while paused), so an edge
 * starts (and keeps) its relay for the player; sent nothing.
 */
class DescribeHold implements Sink {
  readonly id: string;
  readonly format = rtpFormat;
  readonly protocol: string;
  readonly passive = true;
  readonly bufferedBytes = 0;
  private readonly onEnd: (r: EndReason) => void;
  constructor(id: string, protocol: string, onEnd: (r: EndReason) => void) {
    this.id = id;
    this.protocol = protocol;
    this.onEnd = onEnd;
  }
  start(_info: StreamStartInfo): void {}
  write(_buf: Buffer): void {}
  cork(): void {}
  uncork(): void {}
  end(reason: EndReason): void {
    this.onEnd(reason);
  }
}

/** An RTSP player: DESCRIBE, SETUP per track, PLAY, PAUSE; media from the stream's shared RTP. */
export class PlaySession {
  readonly kind = 'play' as const;
  private readonly conn: RtspConnection;
  private readonly ctx: RtspContext;
  private key: string | null = null;
  private stream: Stream | null = null;
  private hold: Subscriber | null = null;
  private active: { sub: Subscriber; sink: RtspPlaySink } | null = null;
  /** After PAUSE: the first sequence number per RTP channel the player has not had. */
  private resumeFrom: Map<number, number> | null = null;
  /** Tracks offered by DESCRIBE (by TrackId) and the routes SETUP gave them. */
  private offered: TrackId[] = [];
  private readonly routes = new Map<number, TrackRoute>();
  private readonly pairs: UdpPair[] = [];
  private baseUrl = '';
  private info: SessionInfo | null = null;
  private bytesOut = 0;
  private closed = false;
  readonly authState = { authFailures: 0 };

  constructor(conn: RtspConnection, ctx: RtspContext) {
    this.conn = conn;
    this.ctx = ctx;
  }

  async describe(req: RtspRequest): Promise<Reply> {
    const target = streamOf(req.uri);
    if (!target) return { status: 404 };
    const denied = checkAuth(
      this.ctx.playAuth,
      req,
      this.authState,
      this.ctx.counters,
      this.conn.log,
      'play',
    );
    if (denied) return denied;
    if (this.key !== null && this.key !== target.key) return { status: 455 };
    const decision = (await this.ctx.hooks.authorizePlay?.({
      key: target.key,
      query: target.query,
      connectProps: {},
      sessionId: this.conn.id,
      remote: this.conn.remote,
      protocol: this.conn.proto,
    })) ?? { ok: true as const, kind: 'player' as const };
    // The viewer may have left (or described another stream) while the answer was pending.
    if (this.closed) return { status: 404 };
    if (this.key !== null && this.key !== target.key) return { status: 455 };
    if (!decision.ok) {
      this.ctx.counters.inc('play_refused', 1, { proto: this.conn.proto });
      this.conn.log.warn({ stream: target.key, why: decision.description }, 'play refused');
      return { status: decision.status === 503 ? 503 : decision.status === 401 ? 401 : 403 };
    }
    this.key = target.key;
    const stream = this.ctx.hub.getOrCreate(target.key);
    this.stream = stream;
    this.holdStream();
    const tracks = await waitDescribable(
      stream,
      performance.now() + this.ctx.waitPublisherMs,
      () => this.closed,
    );
    if (this.closed) return { status: 404 };
    const offered = tracks ? sdpTracks(tracks) : [];
    if (offered.length === 0) {
      this.ctx.counters.inc('viewer_not_found');
      this.conn.log.info(
        { stream: target.key, publisher: stream.hasPublisher },
        'rtsp describe: nothing to play',
      );
      this.release();
      return { status: 404 };
    }
    this.offered = offered.map((t) => t.id);
    this.baseUrl = req.uri.replace(/\?.*$/, '').replace(/\/+$/, '');
    const sdp = buildSdp({
      sessionName: target.key,
      originAddress: this.conn.socket.localAddress ?? '0.0.0.0',
      tracks: offered.map((t) => t.spec),
    });
    return {
      status: 200,
      headers: [
        ['Content-Type', 'application/sdp'],
        ['Content-Base', `${this.baseUrl}/`],
      ],
      body: Buffer.from(sdp),
    };
  }

  /** Keeps a passive viewer on the stream (relay on an edge, a publisher's wait) until PLAY. */
  private holdStream(): void {
    if (this.hold || !this.stream) return;
    const hold = new DescribeHold(this.conn.id, this.conn.proto, (reason) => {
      this.hold = null;
      // The stream gave up on this viewer (no publisher in time): a waiting DESCRIBE answers 404;
      // a described session ends.
      if (this.offered.length > 0 && !this.active) this.conn.destroy(reason);
    });
    this.hold = this.stream.addSubscriber(hold);
  }

  private release(): void {
    if (this.hold && this.stream) this.stream.removeSubscriber(this.hold);
    this.hold = null;
  }

  async setup(req: RtspRequest): Promise<Reply> {
    if (this.offered.length === 0 || this.active) return { status: 455 };
    const target = streamOf(req.uri);
    const control = target?.control ?? null;
    let track: TrackId | undefined;
    const m = control ? /^trackID=(\d+)$/i.exec(control) : null;
    if (m) track = this.offered.find((t) => t === Number(m[1]));
    else if (this.offered.length === 1 && target?.key === this.key) track = this.offered[0];
    if (track === undefined) return { status: 404 };
    const transport = chooseTransport(req, this.ctx.udp !== null);
    if (!transport) return { status: 461 };
    const channel = rtpChannelOf(track);
    // A track set up again gets its new route before the old one's ports are let go, so a
    // refusal in between leaves the old route whole.
    const old = this.routes.get(channel);
    const dropOld = (): void => {
      if (old?.kind === 'udp') this.closePair(old.rtp);
    };
    if (transport.protocol === 'tcp') {
      const rtpChannel = transport.interleaved?.[0] ?? channel;
      this.routes.set(channel, { kind: 'tcp', rtpChannel });
      dropOld();
      return { status: 200, headers: [['Transport', tcpTransportReply(transport, rtpChannel)]] };
    }
    const peer = peerAddress(this.conn.socket.remoteAddress);
    const got = await udpPairFor(this.ctx.udp!, peer.family, this.ctx.counters, this.conn.log);
    if (isReply(got)) return got;
    if (this.closed || this.active) {
      got.close();
      return { status: this.closed ? 454 : 455 };
    }
    this.pairs.push(got);
    // Receiver reports from the player keep the session alive.
    const alive = (_m: Buffer, rinfo: { address: string }): void => {
      if (fromPeer(rinfo, peer.host)) this.conn.touch();
    };
    got.rtcp.on('message', alive);
    got.rtp.on('message', alive);
    const [rtpPort, rtcpPort] = transport.clientPort!;
    this.routes.set(channel, {
      kind: 'udp',
      rtp: got.rtp,
      rtcp: got.rtcp,
      host: peer.host,
      rtpPort,
      rtcpPort,
    });
    dropOld();
    return { status: 200, headers: [['Transport', udpTransportReply(transport, got)]] };
  }

  private closePair(rtp: unknown): void {
    const i = this.pairs.findIndex((p) => p.rtp === rtp);
    if (i >= 0) this.pairs.splice(i, 1)[0]!.close();
  }

  play(_req: RtspRequest): Promise<Reply> {
    const stream = this.stream;
    if (!stream || this.routes.size === 0) return Promise.resolve({ status: 455 });
    if (this.active) return Promise.resolve({ status: 200, headers: [['Range', 'npt=0.000-']] });
    const sameChannels =
      this.offered.length === this.routes.size &&
      [...this.routes].every(([ch, r]) => r.kind === 'tcp' && r.rtpChannel === ch);
    return new Promise<Reply>((resolve) => {
      let answered = false;
      const sink = new RtspPlaySink({
        id: this.conn.id,
        protocol: this.conn.proto,
        socket: this.conn.socket,
        routes: this.routes,
        sameChannels,
        onReady: (starts) => {
          answered = true;
          resolve({
            status: 200,
            headers: [
              ['Range', 'npt=0.000-'],
              ['RTP-Info', this.rtpInfo(starts)],
            ],
            after: () => sink.flush(),
          });
        },
        ...(this.resumeFrom ? { resumeFrom: this.resumeFrom } : {}),
        onUdpDrop: () => this.ctx.counters.inc('rtsp_udp_dropped_packets'),
        onEnd: (reason) => {
          if (!answered) {
            answered = true;
            resolve({ status: reason === EndReason.Shutdown ? 503 : 404, close: true, closeReason: reason });
            return;
          }
          if (sink.failure) this.conn.log.warn({ err: sink.failure }, 'rtsp player: sending failed');
          this.conn.destroy(reason);
        },
      });
      const sub = stream.addSubscriber(sink);
      this.active = { sub, sink };
      // The passive hold is no longer needed once the real viewer is attached.
      this.release();
      if (!this.info) {
        this.info = {
          sessionId: this.conn.id,
          kind: 'player',
          protocol: this.conn.proto,
          key: this.key!,
          remote: this.conn.remote,
        };
        this.ctx.counters.inc('play_started', 1, { proto: this.conn.proto });
        this.conn.log.info(
          { stream: this.key, tracks: this.routes.size, transport: [...this.routes.values()][0]?.kind },
          'play started',
        );
        this.ctx.hooks.sessionStarted?.(this.info);
      }
    });
  }

  private rtpInfo(starts: Map<number, TrackStart>): string {
    return formatRtpInfo(
      this.offered
        .filter((t) => this.routes.has(rtpChannelOf(t)))
        .map((t) => {
          const s = starts.get(rtpChannelOf(t));
          return { url: `${this.baseUrl}/trackID=${t}`, ...(s ? { seq: s.seq, rtptime: s.rtptime } : {}) };
        }),
    );
  }

  pause(): Reply {
    const state =
      this.active && this.stream ? (this.stream.formatStateOf(rtpFormat) as RtpStreamState) : null;
    if (state) {
      // Everything serialized so far was sent or skipped for this player: it resumes after it.
      this.resumeFrom = new Map();
      if (state.video.out) this.resumeFrom.set(rtpChannelOf(TrackId.Video), state.video.out.nextSequence);
      if (state.audio.out) this.resumeFrom.set(rtpChannelOf(TrackId.Audio), state.audio.out.nextSequence);
    }
    this.detachActive();
    this.holdStream();
    return { status: 200 };
  }

  private detachActive(): void {
    const a = this.active;
    if (!a || !this.stream) return;
    this.active = null;
    this.bytesOut += a.sub.bytesSent;
    this.stream.removeSubscriber(a.sub);
  }

  /** Interleaved data from a player is RTCP receiver reports: only a sign of life. */
  interleaved(_channel: number, _payload: Buffer): void {}

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const endedBy = this.active?.sub.endedBy ?? undefined;
    const dropped = this.active?.sub.droppedFrames ?? 0;
    this.detachActive();
    this.release();
    for (const p of this.pairs) p.close();
    this.pairs.length = 0;
    if (this.info) {
      this.conn.log.info(
        { stream: this.key, bytesSent: this.bytesOut, droppedFrames: dropped },
        'play ended',
      );
      this.ctx.hooks.sessionStopped?.({
        ...this.info,
        durationMs: Date.now() - this.conn.startedAt,
        bytesIn: this.conn.bytesIn,
        bytesOut: this.bytesOut,
        reason: this.conn.endReason ?? endedBy ?? reason,
      });
      this.info = null;
    }
  }
}
