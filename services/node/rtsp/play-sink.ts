import type { Socket as DgramSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { forEachInterleaved, interleavedHeader } from '../../../libs/rtp/index.ts';
import { EndReason, type Sink, type StreamStartInfo } from '../../../libs/stream/index.ts';
import { rtpFormat } from './rtp-format.ts';

/** Where one track of a player goes: its interleaved channels, or its UDP ports. */
export type TrackRoute =
  | { kind: 'tcp'; rtpChannel: number }
  | { kind: 'udp'; rtp: DgramSocket; rtcp: DgramSocket; host: string; rtpPort: number; rtcpPort: number };

/** The first RTP packet a player gets on a track, for RTP-Info (RFC 2326 §12.33). */
export interface TrackStart {
  seq: number;
  rtptime: number;
}

export interface PlaySinkOptions {
  id: string;
  protocol: string;
  /** The RTSP connection (interleaved data goes on it). */
  socket: Socket;
  /** Routes by the stream's RTP channel (0 video, 2 audio); a track without one is not sent. */
  routes: Map<number, TrackRoute>;
  /** True when every track of the stream is routed over TCP on the stream's own channel numbers. */
  sameChannels: boolean;
  /**
   * The start burst is ready: the PLAY response can go out (with RTP-Info from `starts`, by the
   * stream's RTP channel); packets are held until flush() is called after it.
   */
  onReady: (starts: Map<number, TrackStart>) => void;
  onEnd: (reason: EndReason) => void;
  /**
   * PLAY after PAUSE: by the stream's RTP channel, the first sequence number this player has not
   * had. Older packets of the start burst (the cached GOP it played before) are left out, so its
   * sequence numbers and times never go back.
   */
  resumeFrom?: Map<number, number>;
  /** A datagram dropped for a full socket buffer (counted by the node). */
  onUdpDrop?: () => void;
}

/**
 * An RTSP player as a stream sink. Packets are the stream's shared Buffers: over TCP on matching
 * channels written as they are, otherwise each record gets this player's 4-byte header (TCP) or
 * goes out as a datagram (UDP). Writes before the PLAY response are held until the start burst
 * is complete, so RTP-Info can name the first packet of each track.
 */
export class RtspPlaySink implements Sink {
  readonly id: string;
  readonly format = rtpFormat;
  readonly protocol: string;
  private readonly opts: PlaySinkOptions;
  private resumeFrom: Map<number, number> | null;
  private held: Buffer[] | null = [];
  private heldBytes = 0;
  private started = false;
  private ready = false;
  private ended = false;
  /** Datagrams lost to a full socket buffer (UDP has no backpressure to wait on). */
  udpDropped = 0;

  constructor(opts: PlaySinkOptions) {
    this.id = opts.id;
    this.protocol = opts.protocol;
    this.opts = opts;
    this.resumeFrom = opts.resumeFrom && opts.resumeFrom.size > 0 ? new Map(opts.resumeFrom) : null;
  }

  /** The records of `buf` a resumed player has not had (RTCP always passes). */
  private skipSeen(buf: Buffer, from: Map<number, number>): Buffer {
    const kept: Buffer[] = [];
    let dropped = false;
    for (let at = 0; at + 4 <= buf.length;) {
      const channel = buf[at + 1]!;
      const end = at + 4 + buf.readUInt16BE(at + 2);
      const first = from.get(channel);
      let keep = true;
      if (first !== undefined && end - at >= 16) {
        const seq = buf.readUInt16BE(at + 6);
        // RFC 3550 A.1: sequence numbers compared modulo 2^16.
        if (((seq - first) & 0xffff) >= 0x8000) keep = false;
        else from.delete(channel);
      }
      if (keep) kept.push(buf.subarray(at, end));
      else dropped = true;
      at = end;
    }
    if (from.size === 0) this.resumeFrom = null;
    return dropped ? Buffer.concat(kept) : buf;
  }

  get bufferedBytes(): number {
    return this.opts.socket.writableLength + this.heldBytes;
  }

  start(_info: StreamStartInfo): void {
    this.started = true;
  }

  write(buf: Buffer): void {
    if (this.ended) return;
    if (this.resumeFrom) {
      buf = this.skipSeen(buf, this.resumeFrom);
      if (buf.length === 0) return;
    }
    if (this.held) {
      this.held.push(buf);
      this.heldBytes += buf.length;
      return;
    }
    this.send(buf);
  }

  cork(): void {
    this.opts.socket.cork();
  }

  uncork(): void {
    if (!this.ready && this.started && !this.ended) this.announce();
    this.opts.socket.uncork();
  }

  end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    this.held = null;
    this.heldBytes = 0;
    this.opts.onEnd(reason);
  }

  /** The start burst is complete: PLAY can be answered, naming each track's first packet. */
  private announce(): void {
    this.ready = true;
    const starts = new Map<number, TrackStart>();
    for (const buf of this.held ?? []) {
      forEachInterleaved(buf, (channel, packet) => {
        if (channel % 2 !== 0 || starts.has(channel) || packet.length < 12) return;
        starts.set(channel, { seq: packet.readUInt16BE(2), rtptime: packet.readUInt32BE(4) });
      });
    }
    this.opts.onReady(starts);
  }

  /** The PLAY answer is out: what was held follows it, and later packets go out as they come. */
  flush(): void {
    const held = this.held ?? [];
    this.held = null;
    this.heldBytes = 0;
    if (this.ended) return;
    this.opts.socket.cork();
    for (const buf of held) this.send(buf);
    this.opts.socket.uncork();
  }

  private send(buf: Buffer): void {
    try {
      this.deliver(buf);
    } catch (err) {
      // A socket that went away under us (a datagram socket closed): this player ends, the
      // stream's other viewers and its publisher go on.
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.held = null;
    this.heldBytes = 0;
    this.failure = err;
    queueMicrotask(() => this.opts.onEnd(EndReason.Stalled));
  }

  /** Why sending failed, if it did. */
  failure: unknown = null;

  private deliver(buf: Buffer): void {
    const { socket, routes, sameChannels } = this.opts;
    if (sameChannels) {
      socket.write(buf);
      return;
    }
    forEachInterleaved(buf, (channel, packet) => {
      const route = routes.get(channel & ~1);
      if (!route) return;
      const rtcp = (channel & 1) === 1;
      if (route.kind === 'tcp') {
        socket.write(interleavedHeader(route.rtpChannel + (rtcp ? 1 : 0), packet.length));
        socket.write(packet);
        return;
      }
      const sock = rtcp ? route.rtcp : route.rtp;
      // A datagram socket queues without limit: past a bound, drop like a lossy network would.
      if (sock.getSendQueueSize() > MAX_UDP_QUEUE) {
        this.udpDropped++;
        this.opts.onUdpDrop?.();
        return;
      }
      sock.send(packet, rtcp ? route.rtcpPort : route.rtpPort, route.host);
    });
  }
}

/** Datagrams queued per socket before a UDP player's packets are dropped. */
const MAX_UDP_QUEUE = 4096;
