import { buildReceiverReport, interleavedHeader } from '../../../libs/rtp/index.ts';
import {
  parseSdp,
  trackCodec,
  type RtspRequest,
  type SdpMedia,
  type TrackCodec,
} from '../../../libs/rtsp/index.ts';
import type { PublisherHandle, Stream } from '../../../libs/stream/index.ts';
import type { StreamMediaInfo } from '../../../libs/cluster/types.ts';
import { isProtocolError } from '../../../libs/errors/protocol-error.ts';
import type { SessionInfo } from '../hooks.ts';
import { mediaInfoFromSequenceHeader } from '../media-info.ts';
import type { RtspConnection } from './connection.ts';
import type { RtspContext } from './context.ts';
import { RtspRecorder } from './recorder.ts';
import type { Reply } from './reply.ts';
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

/** Receiver reports to the publisher this often (RFC 3550 §6.2 suggests about 5 s). */
const RR_INTERVAL_MS = 5_000;
/** The most tracks an ANNOUNCE may describe (a camera has a few; SDP parsing caps at 64). */
const MAX_TRACKS = 8;
/** UDP: how often packets held behind a gap are checked for giving up on it. */
const REORDER_FLUSH_MS = 50;

interface TrackSetup {
  /** TCP: the interleaved RTP channel; UDP: the server pair. */
  channel: number | null;
  pair: UdpPair | null;
  peer: { host: string; rtcpPort: number } | null;
}

/** An RTSP publisher: ANNOUNCE (claims the key), SETUP per track, RECORD; RTP in, stream frames out. */
export class RecordSession {
  readonly kind = 'record' as const;
  private readonly conn: RtspConnection;
  private readonly ctx: RtspContext;
  private key: string | null = null;
  private stream: Stream | null = null;
  private handle: PublisherHandle | null = null;
  private onEnd: (() => void) | undefined;
  private media: SdpMedia[] = [];
  private codecs: (TrackCodec | null)[] = [];
  private readonly setups = new Map<number, TrackSetup>();
  /** Interleaved channel -> track index (RTP on even, RTCP on odd: channel - 1). */
  private readonly channels = new Map<number, number>();
  private recorder: RtspRecorder | null = null;
  private rrTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private info: SessionInfo | null = null;
  private mediaInfo: StreamMediaInfo = {};
  private badPackets = 0;
  private closed = false;
  recording = false;
  lastMediaAt = performance.now();
  readonly authState = { authFailures: 0 };

  constructor(conn: RtspConnection, ctx: RtspContext) {
    this.conn = conn;
    this.ctx = ctx;
  }

  async announce(req: RtspRequest): Promise<Reply> {
    const target = streamOf(req.uri);
    if (!target) return { status: 400 };
    const denied = checkAuth(
      this.ctx.publishAuth,
      req,
      this.authState,
      this.ctx.counters,
      this.conn.log,
      'publish',
    );
    if (denied) return denied;
    const type = req.headers.get('content-type') ?? '';
    if (!/^application\/sdp/i.test(type)) return { status: 415 };
    const sdp = parseSdp(req.body.toString('utf8'));
    this.media = sdp.media.slice(0, MAX_TRACKS);
    // One video and one audio track become the stream; others are accepted and ignored.
    let video = false;
    let audio = false;
    this.codecs = this.media.map((m) => {
      const c = trackCodec(m);
      if (c.codec === 'h264' || c.codec === 'h265') {
        if (video) return null;
        video = true;
        return c;
      }
      if (c.codec === 'aac') {
        if (audio) return null;
        audio = true;
        return c;
      }
      return null;
    });
    if (!video && !audio) {
      this.ctx.counters.inc('publish_refused', 1, { reason: 'unsupported_codec' });
      this.conn.log.warn(
        {
          stream: target.key,
          encodings: this.media.map((m) => [...m.rtpmap.values()][0]?.encoding ?? m.type),
        },
        'rtsp publish refused: no H.264, H.265 or AAC track',
      );
      return { status: 415 };
    }
    const existing = this.ctx.hub.get(target.key);
    if (existing?.hasPublisher || this.ctx.gate.isPending(target.key)) {
      this.ctx.counters.inc('publish_refused', 1, { reason: 'in_use' });
      this.conn.log.warn({ stream: target.key }, 'publish refused: stream already has a publisher');
      return { status: 453 };
    }
    const o = await this.ctx.gate.authorize(
      {
        key: target.key,
        query: target.query,
        sessionId: this.conn.id,
        remote: this.conn.remote,
        protocol: this.conn.proto,
      },
      (reason) => this.conn.destroy(reason),
      this.conn.log,
      () => !this.closed,
    );
    if (!o.ok) return { status: o.reason === 'draining' ? 503 : o.reason === 'in_use' ? 453 : 403 };
    const stream = this.ctx.hub.getOrCreate(target.key);
    const handle = stream.attachPublisher(this.conn.id, o.owner);
    if (!handle) {
      o.onEnd?.();
      this.ctx.counters.inc('publish_refused', 1, { reason: 'in_use' });
      return { status: 453 };
    }
    this.key = target.key;
    this.stream = stream;
    this.handle = handle;
    this.onEnd = o.onEnd;
    this.info = {
      sessionId: this.conn.id,
      kind: 'publisher',
      protocol: this.conn.proto,
      key: target.key,
      remote: this.conn.remote,
    };
    this.ctx.counters.inc('publish_started');
    this.conn.log.info(
      { stream: target.key, tracks: this.codecs.map((c) => c?.codec ?? 'ignored') },
      'publish started',
    );
    this.ctx.hooks.sessionStarted?.(this.info);
    return { status: 200 };
  }

  /** The announced track a SETUP names: by its control attribute, else in SETUP order. */
  private trackOf(uri: string): number | null {
    const { control } = streamOf(uri) ?? { control: null };
    for (let i = 0; i < this.media.length; i++) {
      const c = this.media[i]!.control;
      if (!c) continue;
      if (c === uri || c === control || uri.endsWith(`/${c}`)) return i;
    }
    for (let i = 0; i < this.media.length; i++) if (!this.setups.has(i)) return i;
    return null;
  }

  async setup(req: RtspRequest): Promise<Reply> {
    if (!this.handle || this.recording) return { status: 455 };
    const index = this.trackOf(req.uri);
    if (index === null) return { status: 404 };
    const transport = chooseTransport(req, this.ctx.udp !== null);
    if (!transport) return { status: 461 };
    // A track set up again keeps its old route until the new one is in place.
    const old = this.setups.get(index);
    const dropOld = (): void => {
      old?.pair?.close();
      if (old?.channel != null) this.channels.delete(old.channel);
    };
    if (transport.protocol === 'tcp') {
      const channel = transport.interleaved?.[0] ?? index * 2;
      dropOld();
      this.channels.set(channel, index);
      this.setups.set(index, { channel, pair: null, peer: null });
      return { status: 200, headers: [['Transport', tcpTransportReply(transport, channel, 'record')]] };
    }
    const peer = peerAddress(this.conn.socket.remoteAddress);
    const got = await udpPairFor(this.ctx.udp!, peer.family, this.ctx.counters, this.conn.log);
    if (isReply(got)) return got;
    if (this.closed || this.recording) {
      got.close();
      return { status: this.closed ? 454 : 455 };
    }
    got.rtp.on('message', (msg: Buffer, rinfo) => {
      if (!fromPeer(rinfo, peer.host)) {
        this.ctx.counters.inc('rtsp_udp_foreign_packets');
        return;
      }
      this.conn.safely(() => this.packet(index, msg, false));
    });
    got.rtcp.on('message', (msg: Buffer, rinfo) => {
      if (fromPeer(rinfo, peer.host)) this.conn.safely(() => this.packet(index, msg, true));
    });
    dropOld();
    this.setups.set(index, {
      channel: null,
      pair: got,
      peer: { host: peer.host, rtcpPort: transport.clientPort![1] },
    });
    return { status: 200, headers: [['Transport', udpTransportReply(transport, got, 'record')]] };
  }

  record(_req: RtspRequest): Reply {
    if (!this.handle || this.setups.size === 0) return { status: 455 };
    if (this.recording) return { status: 200 };
    const udp = [...this.setups.values()].some((s) => s.pair !== null);
    const codecs = this.codecs.map((c, i) => (this.setups.has(i) ? c : null));
    this.recorder = new RtspRecorder(codecs, udp, (f) => {
      if (!this.stream || !this.handle) return;
      if (f.isSequenceHeader && this.ctx.hooks.publishMediaInfo) {
        this.mediaInfo = { ...this.mediaInfo, ...mediaInfoFromSequenceHeader(f.kind, f.payload) };
        this.ctx.hooks.publishMediaInfo(this.key!, this.conn.id, this.mediaInfo);
      }
      this.stream.write(this.handle, f);
    });
    this.recording = true;
    this.lastMediaAt = performance.now();
    this.rrTimer = setInterval(() => this.sendReceiverReports(), RR_INTERVAL_MS);
    this.rrTimer.unref();
    if (udp) {
      this.flushTimer = setInterval(
        () => this.conn.safely(() => this.guarded(() => this.recorder?.flushStale())),
        REORDER_FLUSH_MS,
      );
      this.flushTimer.unref();
    }
    return { status: 200 };
  }

  interleaved(channel: number, payload: Buffer): void {
    const rtcp = channel % 2 === 1;
    const index = this.channels.get(rtcp ? channel - 1 : channel);
    if (index === undefined) return;
    this.packet(index, payload, rtcp);
  }

  /** One RTP or RTCP packet of a track; a malformed one is skipped and counted, never fatal. */
  private packet(index: number, buf: Buffer, rtcp: boolean): void {
    const rec = this.recorder;
    if (!rec || this.closed) return;
    if (!rtcp) this.lastMediaAt = performance.now();
    this.conn.touch();
    this.guarded(() => (rtcp ? rec.rtcp(buf) : rec.rtp(index, buf)));
  }

  /**
   * Runs recorder work (a packet, or packets released from the reorder window by the timer):
   * a malformed packet is skipped and counted; loss is counted node-wide as it happens (the
   * publish's totals are in its end line).
   */
  private guarded(work: () => void): void {
    const rec = this.recorder;
    if (!rec || this.closed) return;
    const { lost, droppedUnits } = rec.stats;
    try {
      work();
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      this.ctx.counters.inc('rtsp_bad_packets', 1, { code: e.code });
      if (this.badPackets++ === 0)
        this.conn.log.warn({ code: e.code, err: e.message }, 'malformed rtp/rtcp packet skipped');
    }
    if (rec.stats.lost !== lost) this.ctx.counters.inc('rtsp_rtp_packets_lost', rec.stats.lost - lost);
    if (rec.stats.droppedUnits !== droppedUnits)
      this.ctx.counters.inc('rtsp_frames_dropped_after_loss', rec.stats.droppedUnits - droppedUnits);
  }

  private sendReceiverReports(): void {
    const rec = this.recorder;
    if (!rec) return;
    for (const [index, s] of this.setups) {
      const t = rec.trackState(index);
      if (!t) continue;
      const rr = buildReceiverReport({
        ssrc: RR_SSRC,
        cname: 'sluice',
        reports: [
          {
            ssrc: t.ssrc,
            fractionLost: 0,
            cumulativeLost: Math.min(rec.stats.lost, 0x7fffff),
            highestSequence: t.highestSeq,
            jitter: 0,
            lastSr: 0,
            delaySinceLastSr: 0,
          },
        ],
      });
      try {
        if (s.channel !== null) {
          if (this.conn.socket.writable)
            this.conn.socket.write(Buffer.concat([interleavedHeader(s.channel + 1, rr.length), rr]));
        } else if (s.pair && s.peer) {
          s.pair.rtcp.send(rr, s.peer.rtcpPort, s.peer.host);
        }
      } catch (err) {
        // A report that cannot go out is not worth the session (timers must never throw).
        this.conn.log.debug({ err }, 'rtcp receiver report not sent');
      }
    }
  }

  close(reason: string): void {
    if (this.closed) return;
    // Frames still held for B-frame measurement go out before the publisher leaves.
    this.guarded(() => this.recorder?.flush());
    this.closed = true;
    if (this.rrTimer) clearInterval(this.rrTimer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    for (const s of this.setups.values()) s.pair?.close();
    if (this.stream && this.handle) {
      this.stream.detachPublisher(this.handle);
      this.onEnd?.();
      const rec = this.recorder;
      this.conn.log.info(
        {
          stream: this.key,
          frames: this.stream.framesIn,
          ...(rec ? { ...rec.stats, ...rec.reordering } : {}),
        },
        'publish ended',
      );
    }
    this.handle = null;
    if (this.info) {
      this.ctx.hooks.sessionStopped?.({
        ...this.info,
        durationMs: Date.now() - this.conn.startedAt,
        bytesIn: this.conn.bytesIn,
        bytesOut: 0,
        reason: this.conn.endReason ?? reason,
      });
      this.info = null;
    }
  }
}

/** Our SSRC in receiver reports (we send no media on a publish session). */
const RR_SSRC = 0x534c4345;
